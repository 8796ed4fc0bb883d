/**
 * What a real daemon will not do on demand: refuse one deletion of several,
 * or be slow enough to cancel between two. A stand-in LXD client answers the
 * few requests deleteImages sends; the daemon path is in edit.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { HangarError } from '../../shared/errors.js';
import type { LxdOperation } from '../../shared/lxd.js';
import { EventHub } from '../event-hub.js';
import type { LxdClient } from '../lxd/client.js';
import { Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { deleteImages } from './delete.js';
import { ReadOnlyProjects } from './read-only.js';

const fp = (digit: string) => digit.repeat(64);

/** Answers DELETE /1.0/images/<fp> with `answer(fp)`; each deletion is an LXD operation. */
function fakeRemotes(answer: (fingerprint: string) => Promise<void>) {
  const sent: string[] = [];
  const client = {
    get: () => Promise.resolve([fp('a'), fp('b'), fp('c')].map((f) => `/1.0/images/${f}`)),
    request: async (path: string, options: { method?: string }) => {
      const fingerprint = path.slice('/1.0/images/'.length);
      sent.push(`${options.method ?? 'GET'} ${fingerprint}`);
      await answer(fingerprint);
      return { type: 'async', operation: { id: fingerprint } as LxdOperation };
    },
    waitForOperation: (operation: LxdOperation) => Promise.resolve(operation),
  } as unknown as LxdClient;
  const remotes = {
    lxd: () => ({ withClient: <T>(work: (c: LxdClient) => Promise<T>) => work(client) }),
  } as unknown as RemoteRegistry;
  return { remotes, sent };
}

describe('deleting images', () => {
  it('fails naming the images LXD refused, counts the gone ones, and remembers a 403', async () => {
    const { remotes, sent } = fakeRemotes((fingerprint) => {
      if (fingerprint === fp('b'))
        return Promise.reject(new HangarError('lxd-error', 'not authorized', { status: 403 }));
      if (fingerprint === fp('c'))
        return Promise.reject(new HangarError('not-found', 'Image not found', { status: 404 }));
      return Promise.resolve();
    });
    const operations = new Operations(new EventHub());
    const readOnly = new ReadOnlyProjects();
    const started = deleteImages(remotes, operations, readOnly, {
      remote: 'local',
      project: 'dev',
      fingerprints: ['a', fp('b'), fp('c')],
    });
    expect(started.title).toBe('Delete 3 images from local (project dev)');
    const done = await operations.settled(started.id);
    expect(sent).toEqual([`DELETE ${fp('a')}`, `DELETE ${fp('b')}`, `DELETE ${fp('c')}`]);
    expect(done).toMatchObject({
      state: 'failed',
      error: {
        code: 'lxd-error',
        message: `Could not delete 1 image of 3 from local (project dev): bbbbbbbbbbbb (not authorized). Deleted 1 image; 1 image was already gone, deleted meanwhile by someone else (cccccccccccc).`,
      },
      result: { remote: 'local', project: 'dev', skipped: [fp('c')] },
    });
    expect(readOnly.reason('local', 'dev')).toBe(
      'LXD does not let Hangar change images in local (project dev): not authorized',
    );
    expect(readOnly.reason('local', undefined)).toBeUndefined();
  });

  it('stops before the next image when cancelled, saying what was deleted', async () => {
    const gate: { open?: () => void } = {};
    const first = new Promise<void>((resolve) => {
      gate.open = resolve;
    });
    const { remotes, sent } = fakeRemotes(() => first);
    const operations = new Operations(new EventHub());
    const started = deleteImages(remotes, operations, new ReadOnlyProjects(), {
      remote: 'local',
      fingerprints: [fp('a'), fp('b'), fp('c')],
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(operations.list()[0]?.progress).toMatchObject({ stage: 'Deleting 1 of 3' });
    operations.cancel(started.id);
    gate.open?.();
    const done = await operations.settled(started.id);
    expect(sent).toEqual([`DELETE ${fp('a')}`]);
    expect(done).toMatchObject({
      state: 'cancelled',
      error: {
        code: 'cancelled',
        message: 'Cancelled after deleting 1 image of 3; the others are still there.',
      },
      result: { remote: 'local', project: 'default', message: 'Deleted 1 image.' },
    });
  });
});
