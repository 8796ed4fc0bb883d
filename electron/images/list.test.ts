/**
 * LXD's short `recursion=1` answers need thousands of images and minutes to
 * reproduce, so these tests give listImages a stand-in for the one method it
 * uses; the real daemon path is covered in hangar.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { HangarError } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { listImages } from './list.js';

const image = (fingerprint: string) => ({ fingerprint }) as LxdImage;

function store(options: {
  all: string[];
  full: string[];
  failing?: Map<string, number>;
  gone?: string[];
}) {
  const reads: string[] = [];
  const client = {
    get: <T>(path: string, request: { query?: Record<string, string> } = {}): Promise<T> => {
      if (path === '/1.0/images' && request.query?.recursion === '1') {
        return Promise.resolve(options.full.map(image) as T);
      }
      if (path === '/1.0/images')
        return Promise.resolve(options.all.map((fp) => `/1.0/images/${fp}`) as T);
      const fingerprint = path.slice('/1.0/images/'.length);
      reads.push(fingerprint);
      if (options.gone?.includes(fingerprint)) {
        return Promise.reject(new HangarError('not-found', 'Image not found', { status: 404 }));
      }
      const failuresLeft = options.failing?.get(fingerprint) ?? 0;
      if (failuresLeft > 0) {
        options.failing?.set(fingerprint, failuresLeft - 1);
        return Promise.reject(
          new HangarError('lxd-error', 'Failed to begin transaction: context deadline exceeded'),
        );
      }
      return Promise.resolve(image(fingerprint) as T);
    },
  };
  return { client, reads };
}

describe('listing every image even when LXD’s full listing comes back short', () => {
  it('makes no extra reads when the listing is complete', async () => {
    const { client, reads } = store({ all: ['a', 'b'], full: ['a', 'b'] });
    expect((await listImages(client, undefined)).map((i) => i.fingerprint)).toEqual(['a', 'b']);
    expect(reads).toEqual([]);
  });

  it('reads the images the listing dropped, retrying transient failures', async () => {
    const all = Array.from({ length: 50 }, (_, n) => `fp${n}`);
    const { client, reads } = store({
      all,
      full: all.slice(0, 10),
      failing: new Map([['fp20', 2]]),
    });
    const images = await listImages(client, 'bench');
    expect(images.map((i) => i.fingerprint).sort()).toEqual([...all].sort());
    expect(reads.filter((fp) => fp === 'fp20')).toHaveLength(3);
  });

  it('leaves out an image deleted in between', async () => {
    const { client } = store({ all: ['a', 'b', 'c'], full: ['a'], gone: ['c'] });
    expect((await listImages(client, undefined)).map((i) => i.fingerprint).sort()).toEqual([
      'a',
      'b',
    ]);
  });

  it('fails with a specific message rather than show a short list', async () => {
    const { client } = store({ all: ['a', 'b', 'c'], full: ['a'], failing: new Map([['c', 99]]) });
    await expect(listImages(client, undefined)).rejects.toThrow(
      'LXD could not read 1 of 3 images (Failed to begin transaction: context deadline exceeded). Refresh to try again.',
    );
  });
});
