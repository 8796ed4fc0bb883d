import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  onTestFinished,
} from 'vitest';
import { generateCatalog } from '../../scripts/simplestreams/catalog-generator.js';
import {
  startSimplestreamsServer,
  type SimplestreamsServer,
} from '../../scripts/simplestreams/server.js';
import { HangarError } from '../../shared/errors.js';
import { createSelfSignedCertificate } from '../tls/certificate.js';
import { buildCatalog, parseProducts } from './catalog.js';
import { SimplestreamsClient, type Catalog, type SimplestreamsClientOptions } from './client.js';

const INDEX = 'streams/v1/index.json';
const IMAGES = 'streams/v1/images.json';
const generated = generateCatalog({ products: 8, versionsPerProduct: 3 });

let server: SimplestreamsServer;
let cacheDir: string;
let clock: number;
const clients: SimplestreamsClient[] = [];

/** A session: a client that loads the catalog, then closes (its disk cache written). */
async function session(): Promise<Catalog> {
  const ss = client();
  const catalog = await ss.load();
  await ss.close();
  return catalog;
}

function client(options: Partial<SimplestreamsClientOptions> = {}): SimplestreamsClient {
  const created = new SimplestreamsClient({
    url: server.url,
    cacheDir,
    ca: server.ca,
    hostArchitectures: ['x86_64'],
    now: () => clock,
    ...options,
  });
  clients.push(created);
  return created;
}

/** The HangarError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<HangarError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HangarError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

beforeAll(async () => {
  server = await startSimplestreamsServer({ files: generated.files });
});

afterAll(async () => {
  await server.close();
});

beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'hangar-ss-cache-'));
  clock = Date.parse('2025-03-01T10:00:00Z');
  server.requests.length = 0;
  server.setMode('normal');
  for (const [path, body] of generated.files) server.setFile(path, body);
  await server.goOnline();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((entry) => entry.close()));
  await rm(cacheDir, { recursive: true, force: true });
});

describe('SimplestreamsClient: caching', () => {
  it('loads cold, then from memory without a request', async () => {
    const ss = client();
    const first = await ss.load();
    expect(first.fromCache).toBe(false);
    expect(first.offlineError).toBeUndefined();
    expect(first.fetchedAt).toBe('2025-03-01T10:00:00.000Z');
    expect(first.images.length).toBeGreaterThan(40);
    expect(first.aliases).toContainEqual(
      expect.objectContaining({
        name: 'hangar/fixture',
        target: generated.fixture?.split.fingerprint,
      }),
    );
    expect(server.requests.map((r) => [r.path, r.status, r.conditional])).toEqual([
      [INDEX, 200, false],
      [IMAGES, 200, false],
    ]);

    clock += 4 * 60_000;
    expect(await ss.load()).toBe(first);
    expect(server.requests).toHaveLength(2);
    // Written after the answer, atomically: no temporary file is left behind.
    await ss.close();
    const files = await readdir(cacheDir);
    expect(files.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(files).toHaveLength(4);
  });

  it('keeps its copies owner-only, as every file Hangar writes (0700 folder, 0600 files)', async () => {
    const folder = join(cacheDir, 'catalogs');
    const ss = client({ cacheDir: folder });
    await ss.load();
    await ss.close();
    const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);
    expect(await mode(folder)).toBe('700');
    const files = await readdir(folder);
    expect(files).toHaveLength(4);
    for (const file of files) expect(await mode(join(folder, file))).toBe('600');
  });

  it('revalidates after five minutes: 304, nothing re-sent, nothing re-parsed', async () => {
    const ss = client();
    const first = await ss.load();
    clock += 5 * 60_000 + 1;
    const second = await ss.load();
    expect(server.requests.slice(2).map((r) => [r.path, r.status, r.conditional, r.bytes])).toEqual(
      [
        [INDEX, 304, true, 0],
        [IMAGES, 304, true, 0],
      ],
    );
    expect(second.images).toBe(first.images);
    expect(second.fetchedAt).toBe('2025-03-01T10:05:00.001Z');
    expect(second.fromCache).toBe(false);
  });

  it('revalidates from the disk cache in a new session, and sees a changed file', async () => {
    const first = await session();
    const second = await session();
    expect(server.requests.slice(2).map((r) => [r.path, r.status])).toEqual([
      [INDEX, 304],
      [IMAGES, 304],
    ]);
    expect(second.images).toEqual(first.images);

    const products = JSON.parse(generated.files.get(IMAGES)?.toString() ?? '{}') as {
      products: Record<string, unknown>;
    };
    delete products.products['hangar:fixture-unified:amd64:default'];
    server.setFile(IMAGES, JSON.stringify(products));
    const third = await client().load({ force: true });
    expect(server.requests.slice(4).map((r) => [r.path, r.status])).toEqual([
      [INDEX, 304],
      [IMAGES, 200],
    ]);
    expect(third.images).toHaveLength(first.images.length - 1);
  });

  it('bypasses memory on force or refresh()', async () => {
    const ss = client();
    await ss.load();
    await ss.load({ force: true });
    await ss.refresh();
    expect(server.count(INDEX)).toBe(3);
  });

  it('shares one download between concurrent loads', async () => {
    const ss = client();
    const [a, b] = await Promise.all([ss.load(), ss.load({ force: true })]);
    expect(a).toBe(b);
    expect(server.count(INDEX)).toBe(1);
  });

  it('is cancelled by its signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(client().load({ signal: controller.signal }));
    expect(error.code).toBe('cancelled');
  });
});

describe('SimplestreamsClient: offline', () => {
  it('shows the cached catalog with its age when the server is gone', async () => {
    const first = await session();
    const fetchedAt = first.fetchedAt;
    clock += 3 * 86_400_000;
    await server.goOffline();

    const offline = await client().load();
    expect(offline.fromCache).toBe(true);
    expect(offline.fetchedAt).toBe(fetchedAt);
    expect(offline.images).toEqual(first.images);
    expect(offline.aliases).toEqual(first.aliases);
    expect(offline.offlineError).toEqual({
      code: 'lxd-unreachable',
      message: `Cannot reach ${server.url}: connection refused (is the address right and the server running?).`,
    });
  });

  it('falls back from memory too, and retries after 30 seconds', async () => {
    const ss = client();
    const first = await ss.load();
    server.setMode('status', 503);
    clock += 10 * 60_000;
    const offline = await ss.load();
    expect(offline).toMatchObject({ fromCache: true, fetchedAt: first.fetchedAt });
    expect(offline.offlineError).toEqual({
      code: 'lxd-error',
      status: 503,
      message: `${server.url}/${INDEX} answered 503 (Service Unavailable).`,
    });
    const asked = server.count(INDEX);
    clock += 10_000;
    await ss.load();
    expect(server.count(INDEX)).toBe(asked);
    server.setMode('normal');
    clock += 30_000;
    const back = await ss.load();
    expect(back.fromCache).toBe(false);
    expect(server.count(INDEX)).toBe(asked + 1);
  });

  it('falls back when the server serves garbage', async () => {
    await session();
    server.setMode('garbage');
    const offline = await client().load();
    expect(offline.fromCache).toBe(true);
    expect(offline.offlineError?.code).toBe('lxd-error');
    expect(offline.offlineError?.message).toMatch(
      new RegExp(`^${server.url}/streams/v1/index\\.json is not valid JSON: `),
    );
  });
});

describe('SimplestreamsClient: errors without a cache', () => {
  it('says when the host cannot be reached', async () => {
    const url = `https://127.0.0.1:${await closedPort()}`;
    const error = await failure(client({ url }).load());
    expect(error.code).toBe('lxd-unreachable');
    expect(error.message).toBe(
      `Cannot reach ${url}: connection refused (is the address right and the server running?).`,
    );
  });

  it('says when the host name does not resolve', async () => {
    const error = await failure(client({ url: 'https://no-such-host.invalid' }).load());
    expect(error.code).toBe('lxd-unreachable');
    expect(error.message).toMatch(
      /^Cannot reach https:\/\/no-such-host\.invalid: the host name could not be resolved/,
    );
  });

  it('says when the certificate is not signed by the configured CA', async () => {
    const other = await createSelfSignedCertificate({
      commonName: 'other',
      usage: 'server',
      hosts: ['127.0.0.1'],
    });
    const error = await failure(client({ ca: other.certificate }).load());
    expect(error.code).toBe('lxd-unreachable');
    expect(error.message).toBe(
      `The TLS certificate of ${server.url} is not trusted (self-signed certificate): it is not signed by the certificate authority configured for this remote.`,
    );
  });

  it('says when the certificate is not trusted by the system', async () => {
    const error = await failure(client({ ca: undefined }).load());
    expect(error.message).toMatch(
      /is not trusted .*any certificate authority this system trusts\.$/,
    );
  });

  it('says when the server is not a simplestreams server (404 for the index)', async () => {
    server.deleteFile(INDEX);
    const error = await failure(client().load());
    expect(error.toData()).toEqual({
      code: 'lxd-error',
      status: 404,
      message: `Not a simplestreams server: ${server.url}/${INDEX} answered 404 (Not Found).`,
    });
  });

  it('names the file that is not JSON', async () => {
    server.setFile(INDEX, '<html>');
    expect((await failure(client().load())).message).toMatch(
      new RegExp(`^${server.url}/streams/v1/index\\.json is not valid JSON: `),
    );
    server.setFile(INDEX, generated.files.get(INDEX) ?? '');
    server.setFile(IMAGES, '{"products": {');
    const error = await failure(client().load());
    expect(error.code).toBe('lxd-error');
    expect(error.message).toMatch(
      new RegExp(`^${server.url}/streams/v1/images\\.json is not valid JSON: `),
    );
  });

  it('says when the index lists no images', async () => {
    server.setFile(
      INDEX,
      JSON.stringify({
        format: 'index:1.0',
        index: { other: { datatype: 'content-download', path: IMAGES, products: ['x'] } },
      }),
    );
    const error = await failure(client().load());
    expect(error.toData()).toEqual({
      code: 'lxd-error',
      message: `${server.url}/${INDEX} lists no image-downloads: ${server.url} serves no LXD images.`,
    });
  });

  it('says where a products file has the wrong shape', async () => {
    server.setFile(IMAGES, JSON.stringify({ products: { p: { versions: { v: { items: [] } } } } }));
    const error = await failure(client().load());
    expect(error.message).toBe(
      `${server.url}/${IMAGES} is not a simplestreams products file: products.p.versions.v.items is an array, expected an object`,
    );
  });

  it('says when a products file listed by the index is missing', async () => {
    server.deleteFile(IMAGES);
    const error = await failure(client().load());
    expect(error.message).toBe(
      `${server.url}/${IMAGES} answered 404 (Not Found), though streams/v1/index.json lists it.`,
    );
  });
});

describe('SimplestreamsClient: products files read as they arrive', () => {
  const body = generated.files.get(IMAGES) ?? Buffer.alloc(0);

  /** A server sending at `bytesPerSecond`: the products file comes in dozens of pieces. */
  async function slowServer(files: Map<string, Buffer | string>): Promise<SimplestreamsServer> {
    const slow = await startSimplestreamsServer({ files, bytesPerSecond: body.length * 5 });
    onTestFinished(() => slow.close());
    return slow;
  }

  it('makes the same catalog from a file sent slowly as from the file read whole', async () => {
    const slow = await slowServer(generated.files);
    const catalog = await client({ url: slow.url, ca: slow.ca }).load();
    const whole = buildCatalog([parseProducts(body, IMAGES)], {
      url: slow.url,
      hostArchitecture: 'x86_64',
    });
    expect(catalog.images).toEqual(whole.images);
    expect(catalog.aliases).toEqual(whole.aliases);
    expect(body.length).toBeGreaterThan(0);
    expect(catalog.images.length).toBeGreaterThan(40);
  });

  it('names the place of a mistake deep in a file sent slowly, as when read whole', async () => {
    const json = JSON.parse(body.toString()) as { products: Record<string, unknown> };
    // Keys are os:release:arch:variant, which error paths name in brackets.
    const last = Object.keys(json.products).at(-1) ?? '';
    expect(last).toContain(':');
    json.products[last] = { arch: 64 };
    const slow = await slowServer(
      new Map<string, Buffer | string>([...generated.files, [IMAGES, JSON.stringify(json)]]),
    );
    const error = await failure(client({ url: slow.url, ca: slow.ca }).load());
    expect(error.message).toBe(
      `${slow.url}/${IMAGES} is not a simplestreams products file: products[${JSON.stringify(last)}].arch is the number 64, expected a string`,
    );
  });
});

describe('SimplestreamsClient: gzip-encoded files', () => {
  it('asks for gzip, as lxc does, and reads a gzip-encoded catalog: the same images, fewer bytes', async () => {
    const gzipped = await startSimplestreamsServer({ files: generated.files, gzip: true });
    onTestFinished(() => gzipped.close());
    const plain = await client().load();
    const catalog = await client({ url: gzipped.url, ca: gzipped.ca }).load();
    expect(catalog.images).toEqual(plain.images);
    expect(catalog.aliases).toEqual(plain.aliases);
    const sent = gzipped.requests.map(({ path, status, gzip }) => [path, status, gzip]);
    expect(sent).toEqual([
      [INDEX, 200, true],
      [IMAGES, 200, true],
    ]);
    const images = gzipped.requests.find((request) => request.path === IMAGES);
    expect(images?.bytes).toBeLessThan((generated.files.get(IMAGES)?.length ?? 0) / 3);
  });

  it('revalidates a gzip-encoded file by its weak ETag: 304, nothing sent again', async () => {
    const gzipped = await startSimplestreamsServer({ files: generated.files, gzip: true });
    onTestFinished(() => gzipped.close());
    const ss = client({ url: gzipped.url, ca: gzipped.ca });
    const first = await ss.load();
    gzipped.requests.length = 0;
    const again = await ss.refresh();
    expect(
      gzipped.requests.map(({ path, status, conditional }) => [path, status, conditional]),
    ).toEqual([
      [INDEX, 304, true],
      [IMAGES, 304, true],
    ]);
    expect(again.images).toBe(first.images);
  });
});
