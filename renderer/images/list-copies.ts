/**
 * The window's own copies of the lists it shows (shared/images/listed.ts):
 * fetched in chunks once a list is painted (kept or fresh), kept for the
 * last few remotes and projects, so a keystroke's matches and a header
 * click's order are worked out here and painted in the input's own frame.
 */
import { decodeChunk, LIST_CHUNK_MAX, type ListedImage } from '../../shared/images/listed';
import type { ImageRow } from '../../shared/images/format';
import { ImageListIndex, imageSortColumns } from '../../shared/images/view';
import { api } from '../api/hangar';

export type ListCopy = ImageListIndex<ListedImage>;

/** Copies kept (the least recently used go): a switch back to one of these is filtered at once. */
const KEPT = 4;
const copies = new Map<string, { version: number; copy: ListCopy }>();
const fetching = new Map<string, Promise<ListCopy | undefined>>();

/** The copy of `version` of a scope's list, when the window has it. */
export function copyOf(scope: string, version: number): ListCopy | undefined {
  const kept = copies.get(scope);
  if (kept?.version !== version) return undefined;
  copies.delete(scope);
  copies.set(scope, kept);
  return kept.copy;
}

/**
 * Fetches the copy of `version` (one fetch per version at a time); undefined when the main
 * process holds another version by the time it answers (the caller asks again for that one).
 */
export function fetchCopy(
  scope: string,
  where: { remote: string; project: string },
  version: number,
): Promise<ListCopy | undefined> {
  const key = `${scope}\n${version}`;
  let pending = fetching.get(key);
  if (pending === undefined) {
    pending = read(where, version).then(
      (copy) => {
        fetching.delete(key);
        if (copy !== undefined) {
          copies.delete(scope);
          copies.set(scope, { version, copy });
          for (const old of copies.keys()) if (copies.size > KEPT) copies.delete(old);
          void sortAhead(copy);
        }
        return copy;
      },
      () => {
        fetching.delete(key);
        return undefined;
      },
    );
    fetching.set(key, pending);
  }
  return pending;
}

async function read(
  where: { remote: string; project: string },
  version: number,
): Promise<ListCopy | undefined> {
  const first = await api.images.rows({ ...where, offset: 0, limit: LIST_CHUNK_MAX });
  if (first.version !== version) return undefined;
  const offsets: number[] = [];
  for (let offset = LIST_CHUNK_MAX; offset < first.total; offset += LIST_CHUNK_MAX)
    offsets.push(offset);
  const images: ListedImage[] = [];
  const rows: ImageRow[] = [];
  const take = (part: { images: ListedImage[]; rows: ImageRow[] }) => {
    for (const image of part.images) images.push(image);
    for (const row of part.rows) rows.push(row);
  };
  // Each chunk is decoded as it arrives (a few ms each), never all in one long task.
  const rest = offsets.map((offset) =>
    api.images.rows({ ...where, offset, limit: LIST_CHUNK_MAX }),
  );
  // Those not awaited once the read stops early (a new version, a failed chunk) fail unheard.
  for (const pending of rest) pending.catch(() => undefined);
  take(decodeChunk(first));
  for (const next of rest) {
    const chunk = await next;
    if (chunk.version !== version || chunk.total !== first.total) return undefined;
    take(decodeChunk(chunk));
  }
  if (images.length !== first.total) return undefined;
  const copy = new ImageListIndex(images, rows);
  // Its search texts, a slice a task, before the first key needs them.
  const steps = copy.preparing();
  while (steps.next().done !== true) await nextTask();
  return copy;
}

/** A task of its own, after what is waiting (input first). */
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Each column's order, one column a task, while nothing happens: a header click then only reads
 * it (the other direction is derived in one pass).
 */
async function sortAhead(copy: ListCopy): Promise<void> {
  for (const column of imageSortColumns) {
    await nextTask();
    copy.order({ column, desc: false });
  }
}
