/**
 * The image lists every window shows, held here: a window asks for what it
 * paints (`images.view`: a filter, a sort, a window of compact rows) and
 * never receives a whole list, so 20,000 images cost the renderer what 40
 * rows do. Each remote and project's last list is held (and kept on disk
 * by ListCache), so a new window or a switch back paints at once; LXD's
 * lifecycle events are applied here with the smallest read, and
 * `images.listChanged` tells the windows to ask again.
 */
import { isDeepStrictEqual } from 'node:util';
import { applyChanges, planChanges, type ImageChange } from '../../shared/images/changes.js';
import {
  indexImages,
  type ImageListIndex,
  type ImageView,
  type ImageViewQuery,
} from '../../shared/images/view.js';
import { HangarError } from '../../shared/errors.js';
import { encodeChunk, type ListChunk } from '../../shared/images/listed.js';
import type { LxdImage } from '../../shared/lxd.js';
import type { EventHub } from '../event-hub.js';
import type { RemoteConnection } from '../remotes/image-source.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import type { ListCache } from './list-cache.js';

interface HeldList {
  index: ImageListIndex;
  version: number;
  fresh: boolean;
  fetchedAt: string;
  /** The remote's address when it was read: a list of another server under the same name is not this one. */
  addr: string;
  /** The images as the connection gave them (a catalog that did not change gives the same array). */
  source: readonly LxdImage[];
  /** The remote's events stream, open since before the read: while it lasts, events keep this list current. */
  watched: object | undefined;
}

export interface ImageListsOptions {
  remotes: Pick<RemoteRegistry, 'connection' | 'list'>;
  hub: EventHub;
  cache?: ListCache;
  /** Lists held in memory (the least recently used go; they stay on disk). Default 8. */
  maxHeld?: number;
  /** Lifecycle events arriving within this time are applied together. Default 100 ms. */
  batchMs?: number;
  /**
   * How long a list kept current by events is answered without a read. Default 10 minutes: a
   * remote's TCP connection that died silently is found by keepalive within about 12.
   */
  watchedMaxAgeMs?: number;
}

export interface Scope {
  remote: string;
  project?: string | undefined;
}

const keyOf = (remote: string, project: string) => `${remote}\n${project}`;

/** A list read ahead is given to the window that asks for it within this time. */
const READ_AHEAD_MS = 10_000;

export class ImageLists {
  private readonly held = new Map<string, HeldList>();
  /** Each held list's compact copy, by chunk (a new version is a new index). */
  private readonly chunks = new WeakMap<ImageListIndex, Map<string, Promise<ListChunk>>>();
  /** The last chunk encoding asked for: each waits for the one before it (see chunk). */
  private encoding: Promise<unknown> = Promise.resolve();
  /** One server read per list at a time; callers share it. */
  private readonly reading = new Map<string, Promise<HeldList>>();
  /** Changes waiting to be applied, and each list's queue (reads and changes one after another). */
  private readonly pending = new Map<string, ImageChange[]>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Lists read ahead for the window about to open on them (readAhead), by key: when it was asked. */
  private readonly ahead = new Map<string, number>();
  /** Versions never repeat, even for a list read again after it was dropped. */
  private versions = 0;
  private readonly maxHeld: number;
  private readonly batchMs: number;
  private readonly watchedMaxAgeMs: number;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: ImageListsOptions) {
    this.maxHeld = options.maxHeld ?? 8;
    this.batchMs = options.batchMs ?? 100;
    this.watchedMaxAgeMs = options.watchedMaxAgeMs ?? 10 * 60_000;
    this.unsubscribe = options.hub.subscribe((message) => {
      if (message.event === 'images.changed') {
        const { remote, project, action, fingerprint } = message.payload;
        this.changed(remote, project, {
          action,
          ...(fingerprint === undefined ? {} : { fingerprint }),
        });
      } else if (message.event === 'remotes.changed') {
        // A removed remote's lists go; so do those of a remote that now points elsewhere.
        const addrs = new Map(message.payload.remotes.map(({ name, addr }) => [name, addr]));
        for (const [key, list] of this.held) {
          if (addrs.get(key.split('\n')[0] ?? '') !== list.addr) this.held.delete(key);
        }
      }
    });
  }

  /**
   * Stops following the remotes' events, once the lists being kept on disk are written: a list
   * read just before quitting is the one the next start paints.
   */
  async close(): Promise<void> {
    this.unsubscribe();
    await this.options.cache?.settled();
  }

  /**
   * Reads the list from the server and holds it (a read already under way is shared). A list
   * read lately (watchedMaxAgeMs) and kept current since by the remote's unbroken events stream
   * is not read again unless `refresh` asks: an LXD server spends ~5 ms of CPU per image on a
   * listing (10 s for 2,000), which every window opened or switched to would cost it.
   */
  async load(
    { remote, project }: Scope,
    { refresh = false }: { refresh?: boolean } = {},
  ): Promise<{ images: readonly LxdImage[]; list: HeldList }> {
    const key = keyOf(remote, project ?? 'default');
    const askedAhead = this.ahead.get(key);
    this.ahead.delete(key);
    if (!refresh && askedAhead !== undefined && Date.now() - askedAhead < READ_AHEAD_MS) {
      const ahead = this.reading.get(key) ?? this.held.get(key);
      if (ahead !== undefined) {
        const list = await ahead;
        return { images: list.index.images, list };
      }
    }
    const held = this.held.get(key);
    if (
      !refresh &&
      held?.fresh === true &&
      held.watched !== undefined &&
      Date.now() - Date.parse(held.fetchedAt) < this.watchedMaxAgeMs &&
      !this.reading.has(key)
    ) {
      const connection = this.options.remotes.connection(remote);
      if (connection.watching?.() === held.watched) {
        this.hold(key, held);
        return { images: held.index.images, list: held };
      }
    }
    const list = await (this.reading.get(key) ??
      this.share(key, () => this.read(remote, project ?? 'default')));
    return { images: list.index.images, list };
  }

  /**
   * Holds the catalog adding a remote read as that remote's list, for the window about to open
   * on it: that window's load takes this list as it is, instead of asking the server again a
   * moment later. Only that load: the next one asks the server.
   */
  readAhead({ remote, project = 'default' }: Scope, images: LxdImage[]): void {
    const key = keyOf(remote, project);
    if (!this.reading.has(key))
      void this.share(key, () => {
        const connection = this.options.remotes.connection(remote);
        return Promise.resolve(
          this.adopt(remote, project, connection, connection.watching?.(), images),
        );
      }).catch(() => this.ahead.delete(key));
    this.ahead.set(key, Date.now());
  }

  /** Runs a read in the list's queue, shared with every load asking while it runs. */
  private share(key: string, read: () => Promise<HeldList>): Promise<HeldList> {
    const reading = this.serially(key, read);
    this.reading.set(key, reading);
    const forget = () => {
      if (this.reading.get(key) === reading) this.reading.delete(key);
    };
    reading.then(forget, forget);
    return reading;
  }

  /** The server's list (see load), then the window asked for. */
  async loadView(
    scope: Scope,
    query: ImageViewQuery,
    options: { refresh?: boolean } = {},
  ): Promise<ImageView> {
    const { list } = await this.load(scope, options);
    return this.answer(list, query);
  }

  /** A window of the list Hangar holds or kept on disk, without asking the server. */
  async view(scope: Scope, query: ImageViewQuery): Promise<ImageView> {
    const list = await this.kept(scope);
    if (list === undefined)
      return {
        state: 'none',
        version: 0,
        fetchedAt: null,
        total: 0,
        matched: 0,
        offset: 0,
        rows: [],
        withSources: 0,
        ...(query.find === undefined ? {} : { found: -1 }),
      };
    return this.answer(list, query);
  }

  /**
   * Rows `offset`.. of the held list's compact copy, for a window to filter and sort itself;
   * an empty chunk of version 0 when Hangar holds no list.
   */
  async chunk(scope: Scope, offset: number, limit: number): Promise<ListChunk> {
    const list = await this.kept(scope);
    if (list === undefined) return { version: 0, total: 0, offset: 0, strings: [], data: [] };
    // Made once per list and chunk: every window asks for the same ones.
    let chunks = this.chunks.get(list.index);
    if (chunks === undefined)
      this.chunks.set(list.index, (chunks = new Map<string, Promise<ListChunk>>()));
    const key = `${offset}:${limit}`;
    let chunk = chunks.get(key);
    if (chunk === undefined) {
      // One chunk a turn of the event loop: a window asks for all of them at once, and encoding
      // them back to back (~130 ms for 23,000 images) held every other call, such as the info
      // pane of a row clicked as the list appeared, until the last was sent.
      chunk = this.encoding.then(
        () =>
          new Promise<ListChunk>((resolve, reject) =>
            setImmediate(() => {
              try {
                resolve(encodeChunk(list.index, list.version, offset, limit));
              } catch (error) {
                reject(error instanceof Error ? error : new Error(String(error)));
              }
            }),
          ),
      );
      this.encoding = chunk.catch(() => undefined);
      chunks.set(key, chunk);
    }
    return chunk;
  }

  /** The fingerprints of the matches from `from` to `to`: what Ctrl+A and Shift+click select. */
  async fingerprints(
    scope: Scope,
    query: Pick<ImageViewQuery, 'filter' | 'sort'> & { from: number; to: number },
  ): Promise<string[]> {
    const list = await this.kept(scope);
    return list?.index.fingerprints(query.filter, query.sort, query.from, query.to) ?? [];
  }

  /** Whole images of the held list (the info pane, the Delete dialog); those not in it are left out. */
  async details(scope: Scope, fingerprints: readonly string[]): Promise<LxdImage[]> {
    const list = await this.kept(scope);
    if (list === undefined) return [];
    return fingerprints.flatMap((fingerprint) => list.index.image(fingerprint) ?? []);
  }

  private answer(list: HeldList, query: ImageViewQuery): ImageView {
    return {
      state: list.fresh ? 'fresh' : 'kept',
      version: list.version,
      fetchedAt: list.fetchedAt,
      withSources: list.index.withSources,
      ...list.index.window(query),
    };
  }

  private addrOf(remote: string): string | undefined {
    return this.options.remotes.list().find(({ name }) => name === remote)?.addr;
  }

  /** The held list, or the one kept on disk (then held), or undefined. */
  private async kept({ remote, project }: Scope): Promise<HeldList | undefined> {
    const name = project ?? 'default';
    const key = keyOf(remote, name);
    const held = this.held.get(key);
    if (held !== undefined) {
      this.hold(key, held);
      return held;
    }
    const addr = this.addrOf(remote);
    if (addr === undefined)
      throw new HangarError('unknown-remote', `There is no remote named "${remote}".`);
    const copy = await this.options.cache?.read(remote, name, addr);
    // A server read may have finished while the disk was read: it is newer.
    const now = this.held.get(key);
    if (now !== undefined || copy === null || copy === undefined) return now;
    const list: HeldList = {
      index: indexImages(copy.images),
      version: ++this.versions,
      fresh: false,
      fetchedAt: copy.fetchedAt,
      addr,
      source: copy.images,
      watched: undefined,
    };
    this.hold(key, list);
    return list;
  }

  private hold(key: string, list: HeldList): void {
    this.held.delete(key);
    this.held.set(key, list);
    for (const old of this.held.keys()) {
      if (this.held.size <= this.maxHeld) break;
      this.held.delete(old);
    }
  }

  private serially<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(key) ?? Promise.resolve()).then(task, task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return run;
  }

  private async read(remote: string, project: string): Promise<HeldList> {
    const connection = this.options.remotes.connection(remote);
    // Taken before asking: a change after the server's answer then reaches this list as an event.
    const watched = connection.watching?.();
    const images = await connection.listImages(project);
    return this.adopt(remote, project, connection, watched, images);
  }

  /** Holds the images a connection listed as the list of a remote and project. */
  private adopt(
    remote: string,
    project: string,
    connection: RemoteConnection,
    watched: object | undefined,
    images: LxdImage[],
  ): HeldList {
    const key = keyOf(remote, project);
    const before = this.held.get(key);
    const fetchedAt = new Date().toISOString();
    // The very list held (a catalog read again, unchanged): no new index, no new version.
    if (before?.source === images && this.isCurrent(remote, connection)) {
      const list: HeldList = { ...before, fresh: true, fetchedAt, watched };
      this.hold(key, list);
      void this.options.cache?.write(remote, project, list.addr, images);
      return list;
    }
    const list: HeldList = {
      index: indexImages(images),
      version: ++this.versions,
      fresh: true,
      fetchedAt,
      addr: this.addrOf(remote) ?? '',
      source: images,
      watched,
    };
    // The remote was removed or renamed meanwhile: this answer is nobody's list now.
    if (!this.isCurrent(remote, connection)) return list;
    // The same answer keeps its version: windows on screen stay as they are.
    if (before !== undefined && sameImages(before.index.images, list.index.images))
      list.version = before.version;
    this.hold(key, list);
    void this.options.cache?.write(remote, project, list.addr, images);
    if (before?.version !== list.version)
      this.options.hub.emit('images.listChanged', { remote, project, version: list.version });
    return list;
  }

  private isCurrent(remote: string, connection: unknown): boolean {
    try {
      return this.options.remotes.connection(remote) === connection;
    } catch {
      return false;
    }
  }

  private changed(remote: string, project: string, change: ImageChange): void {
    const key = keyOf(remote, project);
    // A list nobody holds is read whole when it is next shown; one being read gets the change
    // applied after the read (its answer may predate it).
    if (!this.held.has(key) && !this.reading.has(key)) return;
    const batch = this.pending.get(key);
    if (batch !== undefined) {
      batch.push(change);
      return;
    }
    this.pending.set(key, [change]);
    setTimeout(() => {
      const changes = this.pending.get(key) ?? [];
      this.pending.delete(key);
      void this.serially(key, () => this.apply(remote, project, changes)).catch(() =>
        // Could not read what changed: the whole list is read again; if that fails too, it is
        // dropped, and the windows showing it ask the server themselves.
        this.load({ remote, project }, { refresh: true }).catch(() => {
          this.held.delete(key);
          this.options.hub.emit('images.listChanged', {
            remote,
            project,
            version: ++this.versions,
          });
        }),
      );
    }, this.batchMs);
  }

  /** Brings a held list up to date with a batch of lifecycle events, reading as little as it can. */
  private async apply(remote: string, project: string, changes: ImageChange[]): Promise<void> {
    const key = keyOf(remote, project);
    const held = this.held.get(key);
    if (held === undefined) return;
    const plan = planChanges(changes);
    if (plan.reload) {
      await this.read(remote, project);
      return;
    }
    const connection = this.options.remotes.connection(remote);
    const removed = new Set(plan.removed);
    const fetched: LxdImage[] = [];
    await Promise.all(
      [...plan.fetch].map(async (fingerprint) => {
        try {
          fetched.push(await connection.getImage(fingerprint, project));
        } catch (error) {
          // Gone again before it was read.
          if (HangarError.from(error).code === 'not-found') removed.add(fingerprint);
          else throw error;
        }
      }),
    );
    const aliases = plan.aliases ? await connection.listAliases(project) : undefined;
    if (this.held.get(key) !== held || !this.isCurrent(remote, connection)) return;
    const images = applyChanges([...held.index.images], { removed, fetched, aliases });
    const list: HeldList = {
      ...held,
      index: indexImages(images),
      version: ++this.versions,
      source: images,
    };
    this.hold(key, list);
    void this.options.cache?.write(remote, project, list.addr, images);
    this.options.hub.emit('images.listChanged', { remote, project, version: list.version });
  }
}

/** Same images, same values. */
function sameImages(a: readonly LxdImage[], b: readonly LxdImage[]): boolean {
  return a.length === b.length && a.every((image, index) => isDeepStrictEqual(image, b[index]));
}
