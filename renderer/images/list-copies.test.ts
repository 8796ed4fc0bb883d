import { beforeEach, expect, it, vi } from 'vitest';
import type { LxdImage } from '../../shared/lxd';
import { encodeChunk, LIST_CHUNK_MAX, type ListChunk } from '../../shared/images/listed';
import { indexImages } from '../../shared/images/view';

const image = (n: number): LxdImage => ({
  fingerprint: n.toString(16).padStart(64, '0'),
  aliases: n % 3 === 0 ? [{ name: `debian/${n}`, description: '' }] : [],
  properties: { os: 'Debian', release: `r${n % 4}`, description: `Image ${n}` },
  architecture: 'x86_64',
  type: 'container',
  filename: `image-${n}.tar.xz`,
  size: 1000 + n,
  public: false,
  auto_update: false,
  cached: false,
  created_at: '2024-01-01T00:00:00Z',
  uploaded_at: '2024-01-02T00:00:00Z',
  expires_at: '0001-01-01T00:00:00Z',
  last_used_at: '0001-01-01T00:00:00Z',
  profiles: [],
});

const held = indexImages(Array.from({ length: 2 * LIST_CHUNK_MAX + 1000 }, (_, n) => image(n)));
let version = 7;
let asked: number[] = [];
let inFlight = 0;
let mostInFlight = 0;

// The main process, as the window reaches it: each chunk answered a moment later, as JSON.
vi.mock('../api/hangar', () => ({
  api: {
    images: {
      rows: ({ offset, limit }: { offset: number; limit: number }) => {
        asked.push(offset);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        return new Promise<ListChunk>((resolve) =>
          setTimeout(() => {
            inFlight -= 1;
            resolve(
              JSON.parse(JSON.stringify(encodeChunk(held, version, offset, limit))) as ListChunk,
            );
          }, 5),
        );
      },
    },
  },
}));

const { fetchCopy } = await import('./list-copies');

beforeEach(() => {
  asked = [];
  inFlight = 0;
  mostInFlight = 0;
});

it('fetches the copy one chunk at a time, so other answers never queue behind many chunks', async () => {
  const copy = await fetchCopy('local\ndefault', { remote: 'local', project: 'default' }, 7);
  expect(asked).toEqual([0, LIST_CHUNK_MAX, 2 * LIST_CHUNK_MAX]);
  expect(mostInFlight).toBe(1);
  // The whole list, in the held order.
  expect(copy?.size).toBe(held.size);
  expect(copy?.images.map((listed) => listed.fingerprint)).toEqual(
    held.images.map((listed) => listed.fingerprint),
  );
});

it('gives up on a copy whose list changed while it was fetched', async () => {
  version = 8;
  const copy = await fetchCopy('other\ndefault', { remote: 'other', project: 'default' }, 7);
  expect(copy).toBeUndefined();
  expect(asked).toEqual([0]);
});
