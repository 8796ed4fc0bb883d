/**
 * Every remote's last list, kept on disk so a window (or the next start)
 * paints it at once while the server is asked again: one file per remote
 * and project, <dir>/<remote>/<project>.json, written to a temporary name
 * then renamed, 0600 in 0700 directories. A file names its remote, project
 * and the remote's address; one that does not match what is asked (another
 * remote since renamed to this name, a remote re-added elsewhere) is no
 * copy at all. Bounded: lists over `maxBytes` are not kept, and beyond
 * `maxLists` files the least recently written go.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LxdImage } from '../../shared/lxd.js';
import { writePrivateFile } from '../private-files.js';

export interface CachedList {
  images: LxdImage[];
  /** ISO time the server sent this list. */
  fetchedAt: string;
}

export interface ListCacheOptions {
  /** Lists larger than this (serialised) are not kept. Default 256 MiB. */
  maxBytes?: number;
  /** At most this many lists are kept; the least recently written go first. Default 64. */
  maxLists?: number;
}

interface ListFile extends CachedList {
  version: 1;
  remote: string;
  project: string;
  addr: string;
}

/** A remote's or project's name as one path segment: never ".", "..", or a separator. */
function segment(name: string): string {
  const encoded = encodeURIComponent(name);
  return encoded === '.' || encoded === '..' ? encodeURIComponent(`%${name}`) : encoded;
}

function isListFile(value: unknown): value is ListFile {
  if (typeof value !== 'object' || value === null) return false;
  const file = value as Partial<Record<keyof ListFile, unknown>>;
  return (
    file.version === 1 &&
    typeof file.remote === 'string' &&
    typeof file.project === 'string' &&
    typeof file.addr === 'string' &&
    typeof file.fetchedAt === 'string' &&
    Array.isArray(file.images) &&
    file.images.every(
      (image: unknown) =>
        typeof image === 'object' &&
        image !== null &&
        typeof (image as { fingerprint?: unknown }).fingerprint === 'string',
    )
  );
}

/** Images serialised per turn of the event loop: 20,000 at once would hold it ~70 ms. */
const IMAGES_PER_TURN = 1000;

/**
 * JSON.stringify of the file, a slice of images at a time, yielding between slices: calls
 * answered meanwhile (a keystroke's window of rows) do not wait behind a big list.
 */
async function serialise(file: ListFile): Promise<string> {
  const { images, ...head } = file;
  const parts: string[] = [];
  for (let start = 0; start < images.length; start += IMAGES_PER_TURN) {
    await new Promise((resolve) => setImmediate(resolve));
    parts.push(JSON.stringify(images.slice(start, start + IMAGES_PER_TURN)).slice(1, -1));
  }
  return `${JSON.stringify(head).slice(0, -1)},"images":[${parts.filter((part) => part !== '').join(',')}]}`;
}

export class ListCache {
  private readonly maxBytes: number;
  private readonly maxLists: number;
  /** Writes run one after another, so an older list never replaces a newer one. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    options: ListCacheOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.maxLists = options.maxLists ?? 64;
  }

  private path(remote: string, project: string): string {
    return join(this.dir, segment(remote), `${segment(project)}.json`);
  }

  /** The last list of this remote (at this address) and project, or null. */
  async read(remote: string, project: string, addr: string): Promise<CachedList | null> {
    await this.queue;
    try {
      const value: unknown = JSON.parse(await readFile(this.path(remote, project), 'utf8'));
      if (
        !isListFile(value) ||
        value.remote !== remote ||
        value.project !== project ||
        value.addr !== addr
      )
        return null;
      return { images: value.images, fetchedAt: value.fetchedAt };
    } catch {
      return null;
    }
  }

  /** Keeps a list (in the background: errors only mean no copy). */
  write(remote: string, project: string, addr: string, images: LxdImage[]): Promise<void> {
    const fetchedAt = new Date().toISOString();
    const task = async () => {
      const data = await serialise({ version: 1, remote, project, addr, fetchedAt, images });
      const path = this.path(remote, project);
      if (Buffer.byteLength(data) > this.maxBytes) {
        await rm(path, { force: true });
        return;
      }
      await writePrivateFile(path, data);
      await this.evict();
    };
    this.queue = this.queue.then(task).catch(() => undefined);
    return this.queue;
  }

  /** Once every write asked for so far is done (or failed): Hangar closing waits for it. */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Drops every list of a remote (removed, renamed). */
  dropRemote(remote: string): Promise<void> {
    this.queue = this.queue
      .then(() => rm(join(this.dir, segment(remote)), { recursive: true, force: true }))
      .catch(() => undefined);
    return this.queue;
  }

  /** Drops the lists of every remote not named here. */
  keepOnly(remotes: string[]): Promise<void> {
    const kept = new Set(remotes.map(segment));
    this.queue = this.queue
      .then(async () => {
        const entries = await readdir(this.dir).catch(() => []);
        await Promise.all(
          entries
            .filter((entry) => !kept.has(entry))
            .map((entry) => rm(join(this.dir, entry), { recursive: true, force: true })),
        );
      })
      .catch(() => undefined);
    return this.queue;
  }

  private async evict(): Promise<void> {
    const files: { path: string; mtime: number }[] = [];
    for (const remote of await readdir(this.dir).catch(() => [])) {
      for (const name of await readdir(join(this.dir, remote)).catch(() => [])) {
        if (!name.endsWith('.json')) continue;
        const path = join(this.dir, remote, name);
        const info = await stat(path).catch(() => undefined);
        if (info !== undefined) files.push({ path, mtime: info.mtimeMs });
      }
    }
    if (files.length <= this.maxLists) return;
    files.sort((a, b) => b.mtime - a.mtime);
    await Promise.all(files.slice(this.maxLists).map(({ path }) => rm(path, { force: true })));
  }
}
