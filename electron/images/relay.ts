/**
 * A copy through Hangar, for a source the target cannot pull from (an LXD
 * reached over its unix socket that does not listen on the network), as
 * lxc's relay mode does: the source's export streams straight into the
 * target's import, never on disk and never whole in memory. The export's
 * body is what LXD's import reads (one tarball, or the multipart form of a
 * split image), so it passes through unchanged.
 */
import { Transform, pipeline } from 'node:stream';
import { HangarError } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import type { LxdClient } from '../lxd/client.js';
import { followLxdOperation } from '../operations/lxd-progress.js';
import type { OperationContext } from '../operations/registry.js';

export interface RelayTarget {
  client: LxdClient;
  project: string | undefined;
  public: boolean;
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** Sends `image` from `source` to `target`; resolves with the fingerprint the target stored. */
export async function relayImage(
  source: { client: LxdClient; project: string | undefined },
  target: RelayTarget,
  image: LxdImage,
  context: OperationContext,
): Promise<string> {
  const { signal, progress } = context;
  // Already there: an upload would be refused as a duplicate. A pull would only make it
  // public if asked (never private again), and so does this.
  const existing = await target.client
    .get<LxdImage>(`/1.0/images/${image.fingerprint}`, { project: target.project })
    .catch((error: unknown) => {
      if (HangarError.from(error).code === 'not-found') return undefined;
      throw error;
    });
  if (existing !== undefined) {
    if (target.public && !existing.public)
      await target.client.request(`/1.0/images/${existing.fingerprint}`, {
        method: 'PATCH',
        project: target.project,
        body: { public: true },
      });
    return existing.fingerprint;
  }

  progress({ stage: 'Relaying through Hangar', processed: 0, total: image.size, percent: 0 });
  const download = await source.client.download(`/1.0/images/${image.fingerprint}/export`, {
    project: source.project,
    signal,
  });
  const contentType = header(download.headers['content-type']) ?? 'application/octet-stream';
  const filename = /filename="?([^";]+)"?/i.exec(
    header(download.headers['content-disposition']) ?? '',
  )?.[1];
  let relayed = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      relayed += chunk.length;
      progress({
        stage: 'Relaying through Hangar',
        processed: relayed,
        total: image.size,
        percent: image.size > 0 ? Math.min(100, (100 * relayed) / image.size) : undefined,
      });
      callback(null, chunk);
    },
  });
  // A failed download fails the upload's body: LXD then keeps nothing.
  let readFailure: Error | undefined;
  pipeline(download.body, counted, (error) => {
    if (error) readFailure = error;
  });

  const multipart = contentType.startsWith('multipart/form-data');
  const response = await target.client
    .upload('/1.0/images', counted, {
      method: 'POST',
      project: target.project,
      signal,
      headers: {
        'content-type': multipart ? contentType : 'application/octet-stream',
        ...(multipart || filename === undefined ? {} : { 'x-lxd-filename': filename }),
        'x-lxd-public': target.public ? '1' : '0',
        ...(Object.keys(image.properties).length === 0
          ? {}
          : { 'x-lxd-properties': new URLSearchParams(image.properties).toString() }),
      },
    })
    .catch((error: unknown) => {
      if (readFailure !== undefined && !signal.aborted)
        throw new HangarError(
          'lxd-error',
          `Reading the image from the source failed: ${readFailure.message}. Nothing was stored.`,
        );
      throw error;
    });
  context.setCancellable(false);
  progress({ stage: 'The target is storing the image', percent: 100 });
  const done = await followLxdOperation(target.client, response, context, {
    project: target.project,
    what: 'importing the relayed image',
  });
  const stored = done.metadata?.fingerprint;
  if (typeof stored === 'string' && stored !== image.fingerprint) {
    await target.client.request(`/1.0/images/${stored}`, {
      method: 'DELETE',
      project: target.project,
    });
    throw new HangarError(
      'lxd-error',
      `The target stored the image as ${stored}, but the source's is ${image.fingerprint}: it was deleted.`,
    );
  }
  return image.fingerprint;
}
