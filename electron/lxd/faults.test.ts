/**
 * The LXD client against servers that misbehave, without an LXD daemon:
 * one that accepts the connection and never answers (plain TCP, TLS, HTTP
 * over a unix socket), answers that never end or are far too big, and
 * transfers that are slow but alive (which must not time out) or stalled.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HangarError } from '../../shared/errors.js';
import { createSelfSignedCertificate } from '../tls/certificate.js';
import { DEFAULT_LXD_LIMITS, LxdClient, type LxdClientOptions } from './client.js';

let dir: string;
const servers: Server[] = [];
const sockets = new Set<Socket>();
const clients: LxdClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-lxd-faults-'));
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  for (const socket of sockets) socket.destroy();
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  await rm(dir, { recursive: true, force: true });
});

function track<T extends Server>(server: T): T {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return server;
}

async function listen(server: Server, path?: string): Promise<string> {
  await new Promise<void>((resolve) =>
    path === undefined ? server.listen(0, '127.0.0.1', resolve) : server.listen(path, resolve),
  );
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(endpoint: ConstructorParameters<typeof LxdClient>[0], options: LxdClientOptions) {
  const made = new LxdClient(endpoint, options);
  clients.push(made);
  return made;
}

/** An HTTP server on a unix socket, as LXD's local API is. */
async function unixServer(handler: Parameters<typeof createHttpServer>[1]): Promise<LxdClient> {
  const server = track(createHttpServer(handler) as HttpServer);
  const socketPath = join(dir, `${servers.length}.socket`);
  await listen(server, socketPath);
  return client({ kind: 'unix', socketPath }, { remote: 'fake' });
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ error: HangarError; afterMs: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    if (error instanceof HangarError) return { error, afterMs: Date.now() - started };
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Rejects when `promise` is still pending after `ms`: a hang is a failure, not a test timeout. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    sleep(ms).then(() => {
      throw new Error(`still waiting after ${ms} ms`);
    }),
  ]);
}

const envelope = (metadata: unknown) =>
  JSON.stringify({ type: 'sync', status: 'Success', status_code: 200, metadata });

describe('a server that accepts the connection and never answers', () => {
  it('times out a TCP listener that never starts TLS, naming the remote', async () => {
    const address = await listen(track(createTcpServer(() => undefined)));
    const silent = client(
      { kind: 'https', url: `https://${address}` },
      { remote: 'silent', connectTimeoutMs: 1000 },
    );
    const { error, afterMs } = await within(5000, failure(silent.get('/1.0')));
    expect(error.code).toBe('lxd-unreachable');
    expect(error.message).toBe(
      `Cannot reach LXD at https://${address} (remote "silent"): the connection and its TLS handshake did not complete within 1 s.`,
    );
    expect(afterMs).toBeGreaterThanOrEqual(900);
    expect(afterMs).toBeLessThan(3000);
  });

  it('times out a TLS server that never answers HTTP, naming the remote', async () => {
    const identity = await createSelfSignedCertificate({
      commonName: '127.0.0.1',
      usage: 'server',
      hosts: ['127.0.0.1'],
    });
    const server = track(
      createHttpsServer({ cert: identity.certificate, key: identity.key }, () => undefined),
    );
    const address = await listen(server);
    const silent = client(
      { kind: 'https', url: `https://${address}`, serverCert: identity.certificate },
      { remote: 'silent', answerTimeoutMs: 1000 },
    );
    for (const request of [
      () => silent.get('/1.0/images', { query: { recursion: '1' } }),
      () => silent.request('/1.0/images/abc', { method: 'PUT', body: { public: true } }),
      () => silent.download('/1.0/images/abc/export'),
    ]) {
      const { error, afterMs } = await within(5000, failure(request()));
      expect(error.code).toBe('lxd-unreachable');
      expect(error.message).toBe(
        `Cannot reach LXD at https://${address} (remote "silent"): the server accepted the connection but did not answer within 1 s.`,
      );
      expect(afterMs).toBeLessThan(3000);
    }
  });

  it('times out an API call over the unix socket, and the events handshake', async () => {
    const silent = await unixServer(() => undefined);
    const unix = client(silent.endpoint, { remote: 'local', answerTimeoutMs: 800 });
    const { error, afterMs } = await within(5000, failure(unix.get('/1.0')));
    expect(error.message).toMatch(
      /^Cannot reach LXD at unix socket .* \(remote "local"\): the server accepted the connection but did not answer within 0.8 s\.$/,
    );
    expect(afterMs).toBeLessThan(3000);
    const events = unix.openEvents(['lifecycle'], {}, () => undefined);
    await within(5000, failure(events.opened));
    events.close();
  });

  it('uses bounded defaults: 10 s to connect and shake hands, 60 s for an answer to start', () => {
    expect(DEFAULT_LXD_LIMITS).toMatchObject({
      connectTimeoutMs: 10_000,
      answerTimeoutMs: 60_000,
      transferStallMs: 300_000,
    });
  });
});

describe('transfers take as long as their bytes flow', () => {
  it('keeps a slow export going past the answer timeout, and cuts a stalled one', async () => {
    let stall = false;
    const fake = await unixServer((request, response) => {
      void (async () => {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        // 2.4 s of bytes, a chunk every 200 ms: three times the answer timeout.
        for (let index = 0; index < 12; index++) {
          response.write(Buffer.alloc(1024, index));
          await sleep(200);
          if (stall && index === 2) return;
        }
        response.end();
      })();
    });
    const slow = client(fake.endpoint, {
      remote: 'fake',
      answerTimeoutMs: 800,
      transferStallMs: 1000,
    });
    const download = await slow.download('/1.0/images/abc/export');
    let received = 0;
    for await (const chunk of download.body as AsyncIterable<Buffer>) received += chunk.length;
    expect(received).toBe(12 * 1024);

    stall = true;
    const stalled = await slow.download('/1.0/images/abc/export');
    const { error } = await within(
      5000,
      failure(
        (async () => {
          try {
            for await (const chunk of stalled.body as AsyncIterable<Buffer>)
              received += chunk.length;
          } catch (reason) {
            throw slow.transferFailure(reason);
          }
        })(),
      ),
    );
    expect(error.code).toBe('lxd-unreachable');
    expect(error.message).toMatch(/\(remote "fake"\): the server stopped sending for 1 s\.$/);
  });

  it('keeps a slow upload going past the answer timeout', async () => {
    const fake = await unixServer((request, response) => {
      let size = 0;
      request.on('data', (chunk: Buffer) => (size += chunk.length));
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(envelope({ size }));
      });
    });
    const slow = client(fake.endpoint, { remote: 'fake', answerTimeoutMs: 800 });
    const body = Readable.from(
      (async function* () {
        for (let index = 0; index < 12; index++) {
          yield Buffer.alloc(1024, index);
          await sleep(200);
        }
      })(),
    );
    const answer = await slow.upload<{ size: number }>('/1.0/images', body, { method: 'POST' });
    expect(answer).toMatchObject({ type: 'sync', metadata: { size: 12 * 1024 } });
  });

  it('gives a long poll its hold time on top of the answer timeout', async () => {
    const fake = await unixServer((request, response) => {
      void sleep(1500).then(() => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          envelope({ id: 'op', status: 'Success', status_code: 200, metadata: null, err: '' }),
        );
      });
    });
    const polling = client(fake.endpoint, { remote: 'fake', answerTimeoutMs: 800 });
    const done = await polling.waitForOperation({
      id: 'op',
      status_code: 103,
    } as Parameters<LxdClient['waitForOperation']>[0]);
    expect(done.status_code).toBe(200);
  });
});

describe('answers too big to read', () => {
  /** An answer that never ends: chunks for as long as the client reads. */
  const endless = (status: number, declared?: number) =>
    unixServer((request, response) => {
      response.writeHead(status, {
        'content-type': 'application/json',
        ...(declared === undefined ? {} : { 'content-length': String(declared) }),
      });
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      response.write('{"type":"sync","metadata":"');
      const pump = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    });

  it('cuts an answer that never ends at the envelope limit, naming the server', async () => {
    const fake = await endless(200);
    const small = client(fake.endpoint, { remote: 'fake', maxEnvelopeBytes: 1024 * 1024 });
    const { error } = await within(5000, failure(small.get('/1.0/images')));
    expect(error.code).toBe('lxd-error');
    expect(error.message).toMatch(
      /^unix socket .*\.socket \(remote "fake"\) sent an answer larger than 1 MiB for GET \/1\.0\/images: Hangar stopped reading it\./,
    );
    // The default limit: 64 MiB, read and refused in well under the test's time.
    const defaults = client(fake.endpoint, { remote: 'fake' });
    const { error: big } = await within(20_000, failure(defaults.get('/1.0/images')));
    expect(big.message).toMatch(/sent an answer larger than 64 MiB for GET \/1\.0\/images/);
  }, 30_000);

  it('cuts an error body at 1 MiB, also for an export, and refuses a declared size at once', async () => {
    const fake = await endless(500);
    const defaults = client(fake.endpoint, { remote: 'fake' });
    for (const request of [
      () => defaults.get('/1.0'),
      () => defaults.download('/1.0/images/abc/export'),
    ]) {
      const { error } = await within(5000, failure(request()));
      expect(error.message).toMatch(/sent an error larger than 1 MiB for GET \/1\.0/);
      expect(error.status).toBe(500);
    }
    const declared = await endless(200, 200 * 1024 * 1024);
    const { error, afterMs } = await within(
      5000,
      failure(client(declared.endpoint, { remote: 'fake' }).get('/1.0/images')),
    );
    expect(error.message).toMatch(/sent an answer larger than 64 MiB/);
    expect(afterMs).toBeLessThan(1000);
  });
});
