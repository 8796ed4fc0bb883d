/**
 * Listing images completely. LXD 5.0 reads every image of `recursion=1` in
 * one database transaction and silently skips the ones its deadline leaves
 * no time for: on a store of 10,000 images the list came back with 2,000 to
 * 3,000 of them (and so does `lxc image list`). The plain list of
 * fingerprints is cheap and complete, so Hangar reads whatever the full
 * listing dropped, one image at a time, and fails loudly rather than show a
 * short list.
 */
import { HangarError } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import type { LxdClient } from '../lxd/client.js';

const PARALLEL_READS = 8;
const ATTEMPTS = 3;

type Reader = Pick<LxdClient, 'get'>;

async function readImage(
  client: Reader,
  fingerprint: string,
  project: string | undefined,
): Promise<LxdImage | undefined> {
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      return await client.get<LxdImage>(`/1.0/images/${fingerprint}`, { project });
    } catch (error) {
      // Deleted since it was listed: not part of the store any more.
      if (error instanceof HangarError && error.code === 'not-found') return undefined;
      lastError = error;
    }
  }
  throw HangarError.from(lastError);
}

export async function listImages(client: Reader, project: string | undefined): Promise<LxdImage[]> {
  const [images, urls] = await Promise.all([
    client.get<LxdImage[]>('/1.0/images', { query: { recursion: '1' }, project }),
    client.get<string[]>('/1.0/images', { project }),
  ]);
  const listed = new Set(images.map((image) => image.fingerprint));
  const missing = urls
    .map((url) => url.slice(url.lastIndexOf('/') + 1))
    .filter((fp) => !listed.has(fp));
  if (missing.length === 0) return images;

  const found: LxdImage[] = [];
  const failures: HangarError[] = [];
  let next = 0;
  const worker = async () => {
    while (next < missing.length) {
      const fingerprint = missing[next++] ?? '';
      try {
        const image = await readImage(client, fingerprint, project);
        if (image !== undefined) found.push(image);
      } catch (error) {
        failures.push(HangarError.from(error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, missing.length) }, worker));
  if (failures.length > 0) {
    throw new HangarError(
      'lxd-error',
      `LXD could not read ${failures.length} of ${urls.length} images (${failures[0]?.message ?? 'unknown error'}). Refresh to try again.`,
    );
  }
  return [...images, ...found];
}
