/**
 * A simplestreams image server's catalog, as `lxc image list <remote>:`
 * shows it. Files are cached on disk and revalidated (If-None-Match /
 * If-Modified-Since); a catalog is reused from memory for a few minutes;
 * when the server fails, the last catalog read is shown with the failure.
 *
 * lxc itself keeps no cache (every command downloads the files again) and
 * the LXD daemon reuses its on-disk copy for an hour, falling back to it on
 * network errors. Hangar revalidates instead: cheap, and never stale.
 */
import { createHash } from 'node:crypto';
import { machine } from 'node:os';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { HangarError, type HangarErrorData } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import {
  INDEX_PATH,
  catalogOf,
  fileImages,
  imageDownloadEntries,
  parseIndex,
  parseProducts,
  type CatalogAlias,
  type CatalogContent,
  type FileImages,
} from './catalog.js';
import { DiskCache, type CachedFileRecord } from './disk-cache.js';
import { networkFailure } from './network-errors.js';
import { ProductsReader } from './products-reader.js';

export interface SimplestreamsClientOptions {
  /** Base URL, e.g. https://images.linuxcontainers.org */
  url: string;
  /** Where fetched files are kept between runs. */
  cacheDir: string;
  /** PEM of a CA trusted in addition to the system's (loopback test servers). */
  ca?: string;
  /** The machine's architectures, its own first (`uname -m`); LXD only uses the first. */
  hostArchitectures?: string[];
  /** How long a catalog is reused without asking the server. Default 5 minutes. */
  maxAgeMs?: number;
  /** After a failure, how long the cached catalog is shown before trying again. Default 30 s. */
  retryAfterMs?: number;
  /** For tests: the current time in ms. */
  now?: () => number;
  /** For tests: the largest file read (default MAX_FILE_BYTES). */
  maxFileBytes?: number;
}

export interface Catalog {
  images: LxdImage[];
  aliases: CatalogAlias[];
  /** When the server last sent or confirmed these files (ISO). */
  fetchedAt: string;
  /** The server failed: this is the copy read earlier, kept on disk. */
  fromCache: boolean;
  /** Why the server could not be used, when `fromCache`. */
  offlineError?: HangarErrorData;
}

export interface LoadOptions {
  signal?: AbortSignal;
  /** Ask the server even if the catalog in memory is recent. */
  force?: boolean;
}

/** One file as the server last sent or confirmed it. */
interface FileVersion {
  record: CachedFileRecord;
  body: Buffer;
  /** The server sent it (200) rather than confirmed our copy (304). */
  sent: boolean;
  /** A products file's images, made as its bytes arrived; undefined when it must be read whole. */
  images?: FileImages | undefined;
}

interface Remembered {
  catalog: Catalog;
  /** sha256 of the index and products files it was built from. */
  contentKey: string;
  records: Map<string, CachedFileRecord>;
  until: number;
}

const MINUTE = 60_000;
const MIB = 1024 * 1024;

/**
 * The largest index or products file read. Each is held whole to be hashed and parsed. Public
 * catalogs are some tens of MiB at most (10,000 versions make about 15 MB: catalog.test.ts), so
 * 256 MiB leaves room for catalogs many times larger, while a server that never stops sending is
 * cut off long before it exhausts the main process's memory.
 */
export const MAX_FILE_BYTES = 256 * MIB;
/**
 * How much of a body that is not a file (an error page, a redirect, a 304) is drained so that
 * the connection can serve the next request; Hangar never shows it. Error pages are a few KiB:
 * beyond 1 MiB the connection is dropped instead of waiting for the end.
 */
export const MAX_DISCARDED_BYTES = 1 * MIB;
/** Redirects followed per file, as Go's http.Client (which LXD uses) follows at most 10. */
export const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/**
 * As LXD's client (Go's http.Transport) asks: the public image servers then send the JSON
 * gzip-encoded, 4 to 5 times smaller (canonical/lxd#13225), which on a real network is most of
 * the wait.
 */
const FILE_HEADERS = { accept: 'application/json', 'accept-encoding': 'gzip' };

function sizeText(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}

/** Stops reading a body: its connection is dropped, and the abort that follows is expected. */
function abandon(response: Dispatcher.ResponseData): void {
  response.body.on('error', () => undefined);
  response.body.destroy();
}

/** Throws away what is left of a body, reading at most MAX_DISCARDED_BYTES of it. */
async function discard(response: Dispatcher.ResponseData): Promise<void> {
  await response.body.dump({ limit: MAX_DISCARDED_BYTES }).catch(() => undefined);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** TLS contexts trusting the system's CAs and one more, made once each (~60 ms apiece). */
const contexts = new Map<string, SecureContext>();
function withExtraCa(ca: string): SecureContext {
  let context = contexts.get(ca);
  if (context === undefined) {
    context = createSecureContext({ ca: [...rootCertificates, ca] });
    contexts.set(ca, context);
  }
  return context;
}

export class SimplestreamsClient {
  private readonly base: string;
  private readonly agent: Agent;
  private readonly cache: DiskCache;
  private readonly hostArchitecture: string;
  private readonly maxAge: number;
  private readonly retryAfter: number;
  private readonly now: () => number;
  private remembered?: Remembered;
  private shared?: { promise: Promise<Catalog>; controller: AbortController; waiters: number };
  private closing?: Promise<void>;
  /** The disk cache's writes under way (they never fail). */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: SimplestreamsClientOptions) {
    // LXD trims one trailing slash (ConnectSimpleStreams); all of them here.
    this.base = options.url.replace(/\/+$/, '');
    this.agent = new Agent({
      connect: {
        timeout: 15_000,
        ...(options.ca === undefined ? {} : { secureContext: withExtraCa(options.ca) }),
      },
      headersTimeout: 60_000,
      bodyTimeout: 120_000,
    });
    this.cache = new DiskCache(options.cacheDir);
    this.hostArchitecture = options.hostArchitectures?.[0] ?? machine();
    this.maxAge = options.maxAgeMs ?? 5 * MINUTE;
    this.retryAfter = options.retryAfterMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The catalog: from memory when recent, else revalidated with the server. */
  load(options: LoadOptions = {}): Promise<Catalog> {
    const remembered = this.remembered;
    if (options.force !== true && remembered !== undefined && this.now() < remembered.until)
      return Promise.resolve(remembered.catalog);
    return this.join(options.signal);
  }

  /** Asks the server now, whatever is in memory. */
  refresh(options: { signal?: AbortSignal } = {}): Promise<Catalog> {
    return this.load({ ...options, force: true });
  }

  /** Waits for the disk cache's writes, then closes the connections (once). */
  close(): Promise<void> {
    return (this.closing ??= this.writing.then(() => this.agent.close()));
  }

  /** Concurrent loads share one download, cancelled only when every caller gave up. */
  private join(signal: AbortSignal | undefined): Promise<Catalog> {
    if (this.shared === undefined) {
      const controller = new AbortController();
      const promise = this.loadOnce(controller.signal).finally(() => {
        this.shared = undefined;
      });
      this.shared = { promise, controller, waiters: 0 };
    }
    const shared = this.shared;
    shared.waiters++;
    return new Promise<Catalog>((resolve, reject) => {
      const abandon = () => {
        if (--shared.waiters === 0) shared.controller.abort();
        reject(new HangarError('cancelled', `Loading ${this.base} was cancelled.`));
      };
      shared.promise.then(
        (catalog) => {
          signal?.removeEventListener('abort', abandon);
          resolve(catalog);
        },
        (error: unknown) => {
          signal?.removeEventListener('abort', abandon);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
      if (signal?.aborted === true) abandon();
      else signal?.addEventListener('abort', abandon, { once: true });
    });
  }

  private async loadOnce(signal: AbortSignal): Promise<Catalog> {
    try {
      return await this.loadFromServer(signal);
    } catch (error) {
      const failure = HangarError.from(error);
      if (failure.code === 'cancelled' || signal.aborted) throw failure;
      const cached = await this.fallback(failure);
      if (cached === undefined) throw failure;
      return cached;
    }
  }

  private fileUrl(path: string): string {
    // shared.JoinUrls: path.Join of the base path and the file's.
    const url = new URL(this.base);
    const joined = `${url.pathname}/${path}`
      .split('/')
      .filter((part) => part !== '' && part !== '.');
    const parts: string[] = [];
    for (const part of joined)
      if (part === '..') parts.pop();
      else parts.push(part);
    url.pathname = `/${parts.join('/')}`;
    return url.toString();
  }

  private async loadFromServer(signal: AbortSignal): Promise<Catalog> {
    const indexUrl = this.fileUrl(INDEX_PATH);
    const index = await this.fetchFile(indexUrl, signal, true);
    const entries = imageDownloadEntries(parseIndex(index.body, indexUrl));
    if (entries.length === 0)
      throw new HangarError(
        'lxd-error',
        `${indexUrl} lists no image-downloads: ${this.base} serves no LXD images.`,
      );
    // LXD skips entries that list no products; each file is read once.
    const urls = [
      ...new Set(
        entries.filter((entry) => entry.products.length > 0).map((e) => this.fileUrl(e.path)),
      ),
    ];
    const products = await Promise.all(urls.map((url) => this.fetchFile(url, signal, false)));
    const versions = [index, ...products];
    const contentKey = versions.map((version) => version.record.sha256).join(',');
    const remembered = this.remembered;
    // A file sent again unchanged (a server that ignores If-None-Match) was read as it arrived
    // all the same; the catalog built before is kept, so windows see the same images.
    const content =
      remembered?.contentKey === contentKey ? remembered.catalog : this.build(products);
    // Written after the answer (a cache that cannot be written costs the next offline fallback,
    // not this load); reads of the cache wait for it.
    const writing = this.writing;
    this.writing = writing.then(() =>
      Promise.all(
        versions.map((version) =>
          this.cache
            .write(version.record, version.sent ? version.body : undefined)
            .catch(() => undefined),
        ),
      ).then(() => undefined),
    );
    const catalog: Catalog = {
      images: content.images,
      aliases: content.aliases,
      fetchedAt: new Date(this.now()).toISOString(),
      fromCache: false,
    };
    this.remember(
      catalog,
      contentKey,
      versions.map((version) => version.record),
      this.maxAge,
    );
    return catalog;
  }

  private build(
    files: { record: CachedFileRecord; body: Buffer; images?: FileImages | undefined }[],
  ) {
    return catalogOf(
      files.map((file) => file.images ?? fileImages(parseProducts(file.body, file.record.url))),
      { url: this.base, hostArchitecture: this.hostArchitecture },
    );
  }

  private remember(catalog: Catalog, contentKey: string, records: CachedFileRecord[], age: number) {
    const byUrl = new Map(records.map((record) => [record.url, record]));
    this.remembered = { catalog, contentKey, records: byUrl, until: this.now() + age };
  }

  /** GETs one file, conditionally when a copy is known; the body is always there on return. */
  private async fetchFile(
    url: string,
    signal: AbortSignal,
    isIndex: boolean,
  ): Promise<FileVersion> {
    await this.writing;
    const known = this.remembered?.records.get(url) ?? (await this.cache.readRecord(url));
    const conditional: Record<string, string> = {};
    if (known?.etag !== undefined) conditional['if-none-match'] = known.etag;
    if (known?.lastModified !== undefined) conditional['if-modified-since'] = known.lastModified;
    const response = await this.get(url, { ...FILE_HEADERS, ...conditional }, signal);
    const fetchedAt = new Date(this.now()).toISOString();
    if (response.statusCode === 304 && known !== undefined) {
      await discard(response);
      const body = await this.cache.readBody(known);
      // Our copy went missing: ask again without conditions.
      if (body === undefined) return this.fetchUnconditionally(url, signal, isIndex);
      return { record: { ...known, fetchedAt }, body, sent: false };
    }
    return this.received(url, response, fetchedAt, isIndex);
  }

  private async fetchUnconditionally(url: string, signal: AbortSignal, isIndex: boolean) {
    const response = await this.get(url, FILE_HEADERS, signal);
    return this.received(url, response, new Date(this.now()).toISOString(), isIndex);
  }

  /**
   * GETs `url`, following redirects as Go's http.Client does for LXD, except that an https
   * server may only send Hangar to another https URL: a downgrade to http (readable and
   * changeable by anyone on the way) or another scheme is refused, naming both ends.
   */
  private async get(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    let current = url;
    for (let redirects = 0; ; redirects++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(current, {
          dispatcher: this.agent,
          method: 'GET',
          headers,
          signal,
        });
      } catch (error) {
        throw networkFailure(error, current, this.options.ca !== undefined);
      }
      const location = header(response.headers.location);
      if (!REDIRECT_STATUSES.has(response.statusCode) || location === undefined) return response;
      await discard(response);
      let target: URL;
      try {
        target = new URL(location, current);
      } catch {
        throw new HangarError(
          'lxd-error',
          `${current} redirected to "${location}", which is not a URL.`,
        );
      }
      const from = new URL(current).protocol;
      if (target.protocol !== 'https:' && !(from === 'http:' && target.protocol === 'http:'))
        throw new HangarError(
          'lxd-error',
          `${current} redirected to ${target.href}: Hangar follows a simplestreams server only to https:// addresses${from === 'https:' ? ', never from https to another scheme' : ''}.`,
        );
      if (redirects === MAX_REDIRECTS)
        throw new HangarError(
          'lxd-error',
          `${url} redirected more than ${MAX_REDIRECTS} times (the last time to ${target.href}).`,
        );
      current = target.href;
    }
  }

  /** The body of a 200, whole, and its sha256, or an error once it passes the limit (announced or sent). */
  private async readBody(
    url: string,
    response: Dispatcher.ResponseData,
    reader: ProductsReader | undefined,
  ): Promise<{ body: Buffer; sha256: string }> {
    const limit = this.options.maxFileBytes ?? MAX_FILE_BYTES;
    const tooLarge = () =>
      new HangarError(
        'lxd-error',
        `${url} is larger than ${sizeText(limit)}, the most Hangar reads from a simplestreams server: ${new URL(url).origin} sent more than any catalog needs.`,
      );
    const announced = Number(header(response.headers['content-length']) ?? Number.NaN);
    if (announced > limit) {
      abandon(response);
      throw tooLarge();
    }
    const encoding = header(response.headers['content-encoding'])?.trim().toLowerCase();
    let decoded: Readable = response.body;
    let gunzip: Gunzip | undefined;
    if (encoding === 'gzip' || encoding === 'x-gzip') {
      // 256 KiB pieces, not zlib's 16 KiB: each is one 'data' event through the hash and reader.
      const decoder = (gunzip = createGunzip({ chunkSize: 256 * 1024 }));
      response.body.on('error', (error) => decoder.destroy(error));
      decoded = response.body.pipe(decoder);
    } else if (encoding !== undefined && encoding !== 'identity') {
      abandon(response);
      throw new HangarError(
        'lxd-error',
        `${url} was sent ${encoding}-encoded, which Hangar did not ask for: it accepts gzip only.`,
      );
    }
    const chunks: Buffer[] = [];
    // Hashed as it arrives: the hash is done when the last byte is.
    const hash = createHash('sha256');
    // Counted decoded: a small gzip body that inflates past the limit is cut off too.
    let size = 0;
    let refused: HangarError | undefined;
    // Taken in 'data' events: a fresh process reads a 14 MB catalog ~30 ms sooner than through
    // the stream's async iterator (a promise per chunk, ~900 of them).
    const take = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        refused = tooLarge();
        decoded.off('data', take);
        abandon(response);
        gunzip?.destroy();
        return;
      }
      chunks.push(chunk);
      hash.update(chunk);
      reader?.push(chunk);
    };
    try {
      decoded.on('data', take);
      await finished(decoded);
      if (refused !== undefined) throw refused;
    } catch (error) {
      if (refused !== undefined) throw refused;
      const code = (error as { code?: unknown } | null)?.code;
      // The decoder stopped reading: the rest of the body is not waited for.
      if (gunzip !== undefined) abandon(response);
      if (typeof code === 'string' && code.startsWith('Z_'))
        throw new HangarError(
          'lxd-error',
          `${url} was sent gzip-encoded, but does not decompress (${error instanceof Error ? error.message : code}).`,
          { cause: error },
        );
      throw networkFailure(error, url, this.options.ca !== undefined);
    }
    return { body: Buffer.concat(chunks, size), sha256: hash.digest('hex') };
  }

  private async received(
    url: string,
    response: Dispatcher.ResponseData,
    fetchedAt: string,
    isIndex: boolean,
  ): Promise<FileVersion> {
    const { statusCode: status } = response;
    if (status !== 200) {
      await discard(response);
      const answered = `${url} answered ${status}${STATUS_TEXT[status] ? ` (${STATUS_TEXT[status]})` : ''}`;
      throw new HangarError(
        'lxd-error',
        isIndex && status === 404
          ? `Not a simplestreams server: ${answered}.`
          : isIndex
            ? `${answered}.`
            : `${answered}, though ${INDEX_PATH} lists it.`,
        { status },
      );
    }
    // A products file is read as it arrives; the index is small and read whole.
    const reader = isIndex ? undefined : new ProductsReader();
    const { body, sha256 } = await this.readBody(url, response, reader);
    const etag = header(response.headers.etag);
    const lastModified = header(response.headers['last-modified']);
    const record: CachedFileRecord = {
      url,
      ...(etag === undefined ? {} : { etag }),
      ...(lastModified === undefined ? {} : { lastModified }),
      fetchedAt,
      sha256,
      size: body.length,
    };
    return { record, body, sent: true, images: reader?.end() };
  }

  /** The last catalog read, when the server failed; undefined when there is none. */
  private async fallback(failure: HangarError): Promise<Catalog | undefined> {
    const offline = (catalog: CatalogContent, fetchedAt: string): Catalog => ({
      images: catalog.images,
      aliases: catalog.aliases,
      fetchedAt,
      fromCache: true,
      offlineError: failure.toData(),
    });
    const remembered = this.remembered;
    if (remembered !== undefined) {
      const catalog = offline(remembered.catalog, remembered.catalog.fetchedAt);
      this.remembered = { ...remembered, catalog, until: this.now() + this.retryAfter };
      return catalog;
    }
    const stored = await this.readStored();
    if (stored === undefined) return undefined;
    const records = stored.files.map((file) => file.record);
    const oldest = records.map((record) => record.fetchedAt).sort()[0] ?? new Date(0).toISOString();
    const catalog = offline(stored.content, oldest);
    const contentKey = records.map((record) => record.sha256).join(',');
    this.remember(catalog, contentKey, records, this.retryAfter);
    return catalog;
  }

  /** The catalog as last stored on disk, if every file of it is there and readable. */
  private async readStored() {
    await this.writing;
    try {
      const indexUrl = this.fileUrl(INDEX_PATH);
      const index = await this.cache.read(indexUrl);
      if (index === undefined) return undefined;
      const entries = imageDownloadEntries(parseIndex(index.body, indexUrl));
      const urls = [
        ...new Set(entries.filter((e) => e.products.length > 0).map((e) => this.fileUrl(e.path))),
      ];
      const products = await Promise.all(urls.map((url) => this.cache.read(url)));
      const files = [index];
      for (const file of products)
        if (file === undefined) return undefined;
        else files.push(file);
      const content = this.build(files.slice(1));
      return { files, content };
    } catch {
      return undefined;
    }
  }
}
