/**
 * What a simplestreams server cannot make Hangar do: read a file without end (or keep it
 * waiting for one that announces hundreds of MiB), hang on an endless error or redirect body,
 * or follow a redirect from https to http or to another scheme. Loopback servers, no LXD.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateCatalog } from '../../scripts/simplestreams/catalog-generator.js';
import { HangarError } from '../../shared/errors.js';
import { createSelfSignedCertificate } from '../tls/certificate.js';
import { SimplestreamsClient } from './client.js';

const INDEX = 'streams/v1/index.json';
const { files } = generateCatalog({ products: 2, versionsPerProduct: 1 });
/** Without the limits these tests hang: fail them quickly instead of at the suite's 30 s. */
const HANG = 10_000;
/** The default limit, MAX_FILE_BYTES (256 MiB). */
const DEFAULT_LIMIT = 256 * 1024 * 1024;

let https: Server;
let http: Server;
let httpsUrl: string;
let httpUrl: string;
let ca: string;
let httpRequests = 0;
let cacheDir: string;
const clients: SimplestreamsClient[] = [];

/** 64 KiB every 5 ms (about 13 MB/s) until the client hangs up: a body that never ends. */
function sendForever(response: ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, '[');
  const timer = setInterval(() => response.write(chunk), 5);
  response.on('close', () => clearInterval(timer));
}

function serveFile(path: string, response: ServerResponse): void {
  const body = files.get(path);
  if (body === undefined) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' }).end(body);
}

/** /<scenario>/<file>: each test points a client at its own scenario. */
function route(request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', httpsUrl);
  const [, scenario = '', ...rest] = url.pathname.split('/');
  const path = rest.join('/');
  const redirect = (status: number, location: string) =>
    response.writeHead(status, { location }).end();
  switch (scenario) {
    case 'ok':
      serveFile(path, response);
      return;
    case 'to-https':
      redirect(307, `/ok/${path}`);
      return;
    case 'to-http':
      redirect(302, `${httpUrl}/ok/${path}`);
      return;
    case 'to-file':
      redirect(301, 'file:///etc/passwd');
      return;
    case 'to-ftp':
      redirect(308, `ftp://127.0.0.1/${path}`);
      return;
    case 'loop': {
      const hop = Number(url.searchParams.get('hop') ?? '0');
      redirect(302, `/loop/${path}?hop=${hop + 1}`);
      return;
    }
    case 'redirect-endless-body':
      response.writeHead(302, { location: `/ok/${path}` });
      sendForever(response);
      return;
    case 'endless':
      response.writeHead(200, { 'content-type': 'application/json' });
      sendForever(response);
      return;
    case 'huge':
      // Announces more than the limit, sends a little, then nothing: only the announcement tells.
      response.writeHead(200, { 'content-length': String(DEFAULT_LIMIT + 1) });
      response.write('{"format":');
      return;
    case 'bad-gzip':
      response.writeHead(200, { 'content-encoding': 'gzip' }).end('{"format": "not gzip"}');
      return;
    case 'gzip-bomb':
      // 8 MiB of spaces in a few KiB: only the decoded size tells.
      response
        .writeHead(200, { 'content-encoding': 'gzip' })
        .end(gzipSync(Buffer.alloc(8 * 1024 * 1024, ' ')));
      return;
    case 'cut':
      // Announces a whole file, sends its first bytes, then drops the connection.
      response.writeHead(200, { 'content-length': '4096' });
      response.write('{"format": "products:1.0", "products": {', () => response.socket?.destroy());
      return;
    case 'cut-gzip': {
      const whole = gzipSync(Buffer.alloc(64 * 1024, ' '));
      response.writeHead(200, {
        'content-encoding': 'gzip',
        'content-length': String(whole.length),
      });
      response.write(whole.subarray(0, whole.length >> 1), () => response.socket?.destroy());
      return;
    }
    case 'brotli':
      response.writeHead(200, { 'content-encoding': 'br' }).end('x');
      return;
    case 'error-endless':
      response.writeHead(500, { 'content-type': 'text/html' });
      sendForever(response);
      return;
    default:
      response.writeHead(404).end();
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function stop(server: Server): Promise<void> {
  (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function client(scenario: string, options: { maxFileBytes?: number } = {}): SimplestreamsClient {
  const created = new SimplestreamsClient({
    url: `${httpsUrl}/${scenario}`,
    cacheDir,
    ca,
    hostArchitectures: ['x86_64'],
    ...options,
  });
  clients.push(created);
  return created;
}

async function failure(promise: Promise<unknown>): Promise<HangarError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HangarError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  const identity = await createSelfSignedCertificate({
    commonName: '127.0.0.1',
    usage: 'server',
    hosts: ['127.0.0.1'],
  });
  ca = identity.certificate;
  https = createHttpsServer({ cert: identity.certificate, key: identity.key }, route);
  httpsUrl = `https://127.0.0.1:${await listen(https)}`;
  http = createHttpServer((request, response) => {
    httpRequests++;
    serveFile(new URL(request.url ?? '/', 'http://x').pathname.replace(/^\/ok\//, ''), response);
  });
  httpUrl = `http://127.0.0.1:${await listen(http)}`;
});

afterAll(async () => {
  await Promise.all([stop(https), stop(http)]);
});

beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'hangar-ss-limits-'));
  httpRequests = 0;
});

afterEach(async () => {
  // close() waits for requests in flight: one that never ends must not hold up the next test.
  const closed = Promise.all(clients.splice(0).map((entry) => entry.close()));
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
  await rm(cacheDir, { recursive: true, force: true });
});

describe('SimplestreamsClient: response sizes', () => {
  it('reads a normal catalog (the servers here work)', async () => {
    expect((await client('ok').load()).images.length).toBeGreaterThan(0);
  });

  it(
    'stops reading a file that never ends, naming the server and the limit',
    async () => {
      const error = await failure(client('endless', { maxFileBytes: 1024 * 1024 }).load());
      expect(error.code).toBe('lxd-error');
      expect(error.message).toBe(
        `${httpsUrl}/endless/${INDEX} is larger than 1 MiB, the most Hangar reads from a simplestreams server: ${httpsUrl} sent more than any catalog needs.`,
      );
    },
    HANG,
  );

  it(
    'refuses at once a file that announces more than 256 MiB',
    async () => {
      const error = await failure(client('huge').load());
      expect(error.message).toBe(
        `${httpsUrl}/huge/${INDEX} is larger than 256 MiB, the most Hangar reads from a simplestreams server: ${httpsUrl} sent more than any catalog needs.`,
      );
    },
    HANG,
  );

  it('measures a gzip-encoded file decoded: a small body that inflates past the limit is cut off', async () => {
    const error = await failure(client('gzip-bomb', { maxFileBytes: 1024 * 1024 }).load());
    expect(error.message).toBe(
      `${httpsUrl}/gzip-bomb/${INDEX} is larger than 1 MiB, the most Hangar reads from a simplestreams server: ${httpsUrl} sent more than any catalog needs.`,
    );
  });

  it('says when a gzip-encoded file does not decompress, or comes in an encoding not asked for', async () => {
    const bad = await failure(client('bad-gzip').load());
    expect(bad.code).toBe('lxd-error');
    expect(bad.message).toMatch(
      new RegExp(
        `^${httpsUrl.replaceAll('.', '\\.')}/bad-gzip/${INDEX.replaceAll('.', '\\.')} was sent gzip-encoded, but does not decompress \\(.+\\)\\.$`,
      ),
    );
    const brotli = await failure(client('brotli').load());
    expect(brotli.message).toBe(
      `${httpsUrl}/brotli/${INDEX} was sent br-encoded, which Hangar did not ask for: it accepts gzip only.`,
    );
  });

  it.each(['cut', 'cut-gzip'])(
    'says the server closed the connection when a file stops in the middle (%s)',
    async (scenario) => {
      const error = await failure(client(scenario).load());
      expect(error.code).toBe('lxd-unreachable');
      expect(error.message).toBe(`Cannot reach ${httpsUrl}: the server closed the connection.`);
    },
    HANG,
  );

  it(
    'does not wait for the end of an endless error page',
    async () => {
      const error = await failure(client('error-endless').load());
      expect(error.message).toBe(
        `${httpsUrl}/error-endless/${INDEX} answered 500 (Internal Server Error).`,
      );
    },
    HANG,
  );

  it(
    'does not wait for the end of an endless redirect body',
    async () => {
      expect((await client('redirect-endless-body').load()).images.length).toBeGreaterThan(0);
    },
    HANG,
  );
});

describe('SimplestreamsClient: redirects', () => {
  it('follows a redirect to https', async () => {
    expect((await client('to-https').load()).images.length).toBeGreaterThan(0);
  });

  it('refuses a redirect from https to http, and never asks the http server', async () => {
    const error = await failure(client('to-http').load());
    expect(error.code).toBe('lxd-error');
    expect(error.message).toBe(
      `${httpsUrl}/to-http/${INDEX} redirected to ${httpUrl}/ok/${INDEX}: Hangar follows a simplestreams server only to https:// addresses, never from https to another scheme.`,
    );
    expect(httpRequests).toBe(0);
  });

  it.each([
    ['to-file', 'file:///etc/passwd'],
    ['to-ftp', `ftp://127.0.0.1/${INDEX}`],
  ])('refuses a redirect to another scheme (%s)', async (scenario, target) => {
    const error = await failure(client(scenario).load());
    expect(error.message).toBe(
      `${httpsUrl}/${scenario}/${INDEX} redirected to ${target}: Hangar follows a simplestreams server only to https:// addresses, never from https to another scheme.`,
    );
  });

  it('gives up after 10 redirects, as LXD does', async () => {
    const error = await failure(client('loop').load());
    expect(error.message).toBe(
      `${httpsUrl}/loop/${INDEX} redirected more than 10 times (the last time to ${httpsUrl}/loop/${INDEX}?hop=11).`,
    );
  });
});
