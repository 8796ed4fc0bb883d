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
  const chunkAt = (offset: number) => api.images.rows({ ...where, offset, limit: LIST_CHUNK_MAX });
  const images: ListedImage[] = [];
  const rows: ImageRow[] = [];
  let total = 0;
  // One chunk asked for at a time, the next as soon as one arrives: the answers of other calls
  // (a keystroke's rows, filtered by the main process until the copy is here) then wait behind
  // one chunk at most. Asked all at once, ten chunks (23,000 images) went first down the one
  // socket, and a keystroke's answer came ~200 ms late. Each chunk is decoded in a task of its
  // own, after input and messages.
  let pending = chunkAt(0);
  for (let offset = 0; ; offset += LIST_CHUNK_MAX) {
    const chunk = await pending;
    if (chunk.version !== version || (offset > 0 && chunk.total !== total)) return undefined;
    total = chunk.total;
    const more = offset + LIST_CHUNK_MAX < total;
    if (more) {
      pending = chunkAt(offset + LIST_CHUNK_MAX);
      // Not awaited if the read stops before it (a chunk that does not decode): it fails unheard.
      pending.catch(() => undefined);
    }
    await backgroundTask();
    const part = decodeChunk(chunk);
    for (const image of part.images) images.push(image);
    for (const row of part.rows) rows.push(row);
    if (!more) break;
  }
  if (images.length !== total) return undefined;
  const copy = new ImageListIndex(images, rows);
  // Its search texts, a slice a task, before the first key needs them.
  const steps = copy.preparing();
  while (steps.next().done !== true) await backgroundTask();
  return copy;
}

interface TaskScheduler {
  postTask: (task: () => void, options: { priority: 'background' }) => Promise<void>;
}
const taskScheduler = (globalThis as { scheduler?: Partial<TaskScheduler> }).scheduler;

/**
 * A task of its own, after what is waiting: input, rendering and messages go first (Chromium's
 * background priority; elsewhere a plain task, after those already queued).
 */
const backgroundTask = (): Promise<unknown> =>
  typeof taskScheduler?.postTask === 'function'
    ? taskScheduler.postTask(() => undefined, { priority: 'background' })
    : new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Each column's order, one column a task, while nothing happens: a header click then only reads
 * it (the other direction is derived in one pass).
 */
async function sortAhead(copy: ListCopy): Promise<void> {
  for (const column of imageSortColumns) {
    await backgroundTask();
    copy.order({ column, desc: false });
  }
}
