import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Handlers, OperationSummary, StreamInput } from '../../shared/contract.js';
import { EventHub } from '../event-hub.js';
import { HangarError } from '../../shared/errors.js';
import type { DownloadSink } from '../images/export.js';
import { StagedUploads } from '../images/staged-uploads.js';
import { openBridgeSocket } from '../../scripts/bridge-socket.js';
import { MAX_BODY_BYTES, startBridge, type Bridge } from './server.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  bridge: Bridge,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const { port } = new URL(bridge.origin);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        // A body cut before its end (a failed download) is an error, as a browser sees it.
        res.on('aborted', () => reject(new Error('aborted')));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A request written byte for byte on a socket: the target reaches the
 * server exactly as given (no client-side URL clean-up of `..`, `%2f`, `\\`).
 */
function raw(bridge: Bridge, target: string, headers: Record<string, string>): Promise<Answer> {
  const { port } = new URL(bridge.origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, headers: {}, body: rest.join('\r\n\r\n') });
    });
    const lines = [
      `GET ${target} HTTP/1.1`,
      ...Object.entries(headers).map(([key, value]) => `${key}: ${value}`),
      'Connection: close',
      '',
      '',
    ];
    socket.write(lines.join('\r\n'));
  });
}

/** The answer to a body sent as it is streamed (chunked, no Content-Length). */
function sendChunked(
  bridge: Bridge,
  path: string,
  headers: Record<string, string>,
  chunks: Buffer[],
): Promise<Answer> {
  const { port } = new URL(bridge.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    // The server may cut the connection once it answered: that is the point.
    req.on('error', (error) => (error.message.includes('EPIPE') ? undefined : reject(error)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const events = new EventHub();
const handled: string[] = [];
const started = { kind: 'import' } as OperationSummary;
const handlers = {
  'remotes.list': () => Promise.resolve([{ name: 'local' }]),
  'images.importFiles': () => {
    handled.push('images.importFiles');
    return Promise.resolve(started);
  },
  'images.export': () => {
    handled.push('images.export');
    return Promise.resolve(started);
  },
} as unknown as Handlers;
/** What the stand-in export sends: its bytes, and whether it fails (a fingerprint mismatch) midway. */
let exportPlan: { name: string; chunks: string[]; fail?: 'before' | 'midway' } = {
  name: 'image.tar.gz',
  chunks: ['abc', 'def'],
};
const downloads = {
  exportImage: (input: StreamInput<'images.exportDownload'>, sink: DownloadSink) => {
    void (async () => {
      if (exportPlan.fail === 'before') {
        sink.abort({
          code: 'not-found',
          message: `No image ${input.fingerprint} on ${input.remote}.`,
        });
        return;
      }
      const size = exportPlan.chunks.join('').length;
      sink.start({ name: exportPlan.name, size });
      for (const [index, chunk] of exportPlan.chunks.entries()) {
        if (exportPlan.fail === 'midway' && index === exportPlan.chunks.length - 1) {
          sink.abort({ code: 'lxd-error', message: 'The exported files do not match the image.' });
          return;
        }
        await sink.write(Buffer.from(chunk));
      }
      await sink.end();
    })();
    return started;
  },
};
let bridge: Bridge;
let uploads: StagedUploads;
let dir: string;
let host: string;
let auth: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-bridge-'));
  // The renderer directory, with a secret beside it that no request may reach.
  await mkdir(join(dir, 'renderer', 'assets'), { recursive: true });
  await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>Hangar</title>');
  await writeFile(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(dir, 'outside.txt'), 'secret');
  await writeFile(join(dir, 'renderer-secret.txt'), 'secret');
  uploads = new StagedUploads(join(dir, 'uploads'), { maxBytes: 1024 * 1024, maxConcurrent: 2 });
  bridge = await startBridge({
    hangar: { handlers, events, uploads, downloads },
    staticDir: join(dir, 'renderer'),
  });
  host = new URL(bridge.origin).host;
  auth = { host, authorization: `Bearer ${bridge.token}` };
});
afterAll(async () => {
  await bridge.close();
  await rm(dir, { recursive: true, force: true });
});

/** A socket to the bridge, as the page opens it. */
const openSocket = (headers: Record<string, string>) =>
  openBridgeSocket(`ws://${host}/api/socket`, headers);

/** Whether the bridge refuses a socket with these headers. */
const refusesSocket = (headers: Record<string, string>) =>
  new Promise<boolean>((resolve) => {
    const socket = new WebSocket(`ws://${host}/api/socket`, { headers });
    socket.on('open', () => {
      socket.close();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });

describe('web bridge', () => {
  it('listens on loopback only with a long random token', () => {
    expect(bridge.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bridge.token).toMatch(/^[0-9a-f]{64}$/);
    expect(bridge.url).toBe(`${bridge.origin}/?token=${bridge.token}`);
  });

  it('refuses every request without the token, pages and calls alike', async () => {
    expect((await send(bridge, '/', { headers: { host } })).status).toBe(401);
    expect((await send(bridge, '/assets/app.js', { headers: { host } })).status).toBe(401);
    expect(await refusesSocket({ origin: bridge.origin })).toBe(true);
    expect(await refusesSocket({ origin: bridge.origin, authorization: 'Bearer wrong' })).toBe(
      true,
    );
    expect((await send(bridge, '/?token=wrong', { headers: { host } })).status).toBe(401);
  });

  it('trades the link token for an HttpOnly, SameSite=Strict cookie that then works', async () => {
    const landing = await send(bridge, `/?token=${bridge.token}`, { headers: { host } });
    expect(landing.status).toBe(303);
    expect(landing.headers.location).toBe('/');
    const cookie = String(landing.headers['set-cookie']).split(';')[0] ?? '';
    expect(String(landing.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await send(bridge, '/', { headers: { host, cookie } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const socket = await openSocket({ cookie, origin: bridge.origin });
    expect(await socket.call('remotes.list', {})).toEqual({ ok: true, value: [{ name: 'local' }] });
    socket.socket.close();
  });

  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    const foreign = `evil.example:${new URL(bridge.origin).port}`;
    expect((await send(bridge, '/', { headers: { ...auth, host: foreign } })).status).toBe(421);
    expect(await refusesSocket({ ...auth, host: foreign, origin: bridge.origin })).toBe(true);
  });

  it('refuses sockets from another origin or another path, and frames that are not calls', async () => {
    expect(await refusesSocket({ ...auth, origin: 'http://evil.example' })).toBe(true);
    const elsewhere = new WebSocket(`ws://${host}/api/events`, {
      headers: { ...auth, origin: bridge.origin },
    });
    expect(await new Promise((resolve) => elsewhere.on('error', () => resolve(true)))).toBe(true);
    for (const frame of ['{not json', '[1]', '{"id":"1","call":"remotes.list"}', '{"id":1}']) {
      const socket = await openSocket({ ...auth, origin: bridge.origin });
      socket.socket.send(frame);
      expect({ frame, code: await socket.closed }).toEqual({ frame, code: 1007 });
    }
    const binary = await openSocket({ ...auth, origin: bridge.origin });
    binary.socket.send(Buffer.from('{"id":1,"call":"remotes.list","input":{}}'));
    expect(await binary.closed).toBe(1007);
  });

  it('runs contract calls through dispatch and validates them', async () => {
    const socket = await openSocket({ ...auth, origin: bridge.origin });
    expect(await socket.call('remotes.list', {})).toEqual({ ok: true, value: [{ name: 'local' }] });
    expect(await socket.call('remotes.list', { unexpected: 1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid-input' },
    });
    expect(await socket.call('remotes.nothing', {})).toMatchObject({ ok: false });
    // Answers find their calls by id, whatever order they come in.
    const answers = await Promise.all([1, 2, 3].map(() => socket.call('remotes.list', {})));
    expect(answers).toEqual(Array(3).fill({ ok: true, value: [{ name: 'local' }] }));
    socket.socket.close();
  });

  it('answers calls over HTTP too (big answers), through the same dispatch and checks', async () => {
    const post = (body: string, headers: Record<string, string> = auth) =>
      send(bridge, '/api/call', {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
    const call = async (body: unknown) =>
      JSON.parse((await post(JSON.stringify(body))).body) as unknown;
    expect(await call({ call: 'remotes.list', input: {} })).toEqual({
      ok: true,
      value: [{ name: 'local' }],
    });
    expect(await call({ call: 'remotes.list', input: { unexpected: 1 } })).toMatchObject({
      ok: false,
      error: { code: 'invalid-input' },
    });
    // The bridge is the web transport: no paths on this machine over HTTP either.
    expect(
      await call({
        call: 'images.export',
        input: { remote: 'local', fingerprint: 'a'.repeat(64), directory: '/tmp' },
      }),
    ).toMatchObject({ ok: false });
    expect(handled).not.toContain('images.export');
    expect((await post('{"input": {}}')).status).toBe(400);
    expect((await post('not json')).status).toBe(400);
    expect((await send(bridge, '/api/call', { headers: auth })).status).toBe(405);
    expect((await post('{"call": "remotes.list"}', { host })).status).toBe(401);
    expect(
      (await post('{"call": "remotes.list"}', { ...auth, origin: 'http://evil.example' })).status,
    ).toBe(403);
  });

  const reserve = (body: unknown, headers: Record<string, string> = auth) =>
    send(bridge, '/api/upload', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const put = (id: string, bytes: string, headers: Record<string, string> = {}) =>
    send(bridge, `/api/upload/${id}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream', ...headers },
      body: bytes,
    });
  type Answered<T> =
    { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
  const envelope = <T>(answer: Answer) => JSON.parse(answer.body) as Answered<T>;
  const reservedId = async (name: string, size: number) => {
    const answer = envelope<{ upload: string }>(await reserve({ name, size }));
    if (!answer.ok) throw new Error(answer.error.message);
    return answer.value.upload;
  };

  /** What an import does with an upload: takes its bytes as they come, then ends. */
  const consume = async (id: string, error?: Error) => {
    const taken = await uploads.take(id);
    const chunks: Buffer[] = [];
    for await (const chunk of taken.stream) chunks.push(chunk as Buffer);
    uploads.settle(id, error);
    return { ...taken, bytes: Buffer.concat(chunks) };
  };

  it('streams an upload into the import that takes it, answering with its outcome, and refuses uploads without the token or from elsewhere', async () => {
    const bytes = Buffer.alloc(300_000, 7).toString('latin1');
    expect((await reserve({ name: 'x', size: 1 }, { host })).status).toBe(401);
    expect(
      (await reserve({ name: 'x', size: 1 }, { ...auth, origin: 'http://evil.example' })).status,
    ).toBe(403);
    const id = await reservedId('my image.tar.gz', 300_000);
    expect((await put(id, 'x', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await put(id, 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    const [answer, taken] = await Promise.all([put(id, bytes), consume(id)]);
    expect(envelope(answer)).toEqual({ ok: true, value: { upload: id } });
    expect(taken).toMatchObject({ name: 'my image.tar.gz', size: 300_000 });
    expect(taken.bytes.equals(Buffer.from(bytes, 'latin1'))).toBe(true);
    // Nothing is written to disk.
    await expect(stat(join(dir, 'uploads'))).rejects.toThrow(/ENOENT/);
    // One reservation takes one body, and one import.
    expect((await put(id, bytes)).status).toBe(404);
    await expect(uploads.take(id)).rejects.toThrow(/drop it again/);

    // The import's failure is the PUT's answer.
    const refused = await reservedId('bad.tar', 10);
    const [failed] = await Promise.all([
      put(refused, 'x'.repeat(10)),
      consume(refused, new HangarError('invalid-image', 'bad.tar is not an LXD image file.')),
    ]);
    expect(envelope(failed)).toEqual({
      ok: false,
      error: { code: 'invalid-image', message: 'bad.tar is not an LXD image file.' },
    });
  });

  it("checks an upload's name and size against the contract like any call", async () => {
    for (const bad of [
      { name: '../../etc/passwd', size: 1 },
      { name: 'a', size: -1 },
      { name: 'a', size: 1.5 },
      { name: 'a', size: 1, path: '/etc/passwd' },
      { name: '', size: 1 },
    ]) {
      expect(envelope(await reserve(bad))).toMatchObject({
        ok: false,
        error: {
          code: 'invalid-input',
          message: expect.stringMatching(/^Invalid input for upload: /) as unknown,
        },
      });
    }
  });

  it('refuses an upload over the size cap, and one too many, before its bytes', async () => {
    const tooBig = await reserve({ name: 'huge.tar.xz', size: 2 * 1024 * 1024 });
    expect(tooBig.status).toBe(413);
    expect(envelope(tooBig)).toMatchObject({
      ok: false,
      error: {
        message:
          'huge.tar.xz is 2 MiB; web mode takes files up to 1 MiB (HANGAR_UPLOAD_MAX_BYTES).',
      },
    });

    const first = await reservedId('a.tar', 10);
    const second = await reservedId('b.tar', 10);
    const third = await reserve({ name: 'c.tar', size: 10 });
    expect(third.status).toBe(429);
    expect(envelope(third)).toMatchObject({
      ok: false,
      error: {
        message: 'Hangar is already receiving 2 files; send c.tar when one of them is done.',
      },
    });
    await Promise.all([put(first, 'x'.repeat(10)), consume(first)]);
    await Promise.all([put(second, 'x'.repeat(10)), consume(second)]);
    // Places are freed when their imports end.
    const third2 = await reservedId('c.tar', 10);
    uploads.settle(third2);
  });

  it('takes no more bytes than reserved, and no upload it did not reserve', async () => {
    const id = await reservedId('small.tar', 10);
    const over = await put(id, 'x'.repeat(5000));
    expect(over.status).toBe(413);
    expect(envelope(over)).toMatchObject({
      ok: false,
      error: { message: 'small.tar is larger than the 10 bytes announced.' },
    });
    await expect(uploads.take(id)).rejects.toThrow(/drop it again/);
    const unknown = await put('00000000-0000-4000-8000-000000000000', 'x');
    expect(unknown.status).toBe(404);
    expect((await send(bridge, `/api/upload/${id}`, { headers: auth })).status).toBe(405);
  });

  it('refuses paths on this machine over the bridge: imports take uploads, exports are downloads', async () => {
    handled.length = 0;
    const socket = await openSocket({ ...auth, origin: bridge.origin });
    const importByPath = await socket.call('images.importFiles', {
      remote: 'local',
      files: [{ path: '/etc/shadow' }],
      aliases: [],
      public: false,
      properties: {},
    });
    expect(importByPath).toEqual({
      ok: false,
      error: {
        code: 'invalid-input',
        message:
          'In web mode Hangar imports only files the browser uploaded: drop them on the window or use "Choose files…". Paths on this machine are refused.',
      },
    });
    const exportToFolder = await socket.call('images.export', {
      remote: 'local',
      fingerprint: 'abc',
      directory: '/etc',
    });
    expect(exportToFolder).toMatchObject({
      ok: false,
      error: {
        code: 'invalid-input',
        message: expect.stringContaining('downloaded by the browser') as unknown,
      },
    });
    expect(handled).toEqual([]);
    // An upload the browser sent is what an import takes.
    const importUpload = await socket.call('images.importFiles', {
      remote: 'local',
      files: [{ upload: '00000000-0000-4000-8000-000000000000' }],
      aliases: [],
      public: false,
      properties: {},
    });
    expect(importUpload).toMatchObject({ ok: true });
    expect(handled).toEqual(['images.importFiles']);
    socket.socket.close();
  });

  it('streams an export as a download, and cuts it when the export fails its check', async () => {
    const query = `remote=local&project=default&fingerprint=${'a'.repeat(64)}`;
    exportPlan = { name: 'image.tar.gz', chunks: ['abc', 'def'] };
    const good = await send(bridge, `/api/export?${query}`, { headers: auth });
    expect(good.status).toBe(200);
    expect(good.body).toBe('abcdef');
    expect(good.headers['content-disposition']).toBe('attachment; filename="image.tar.gz"');
    expect(good.headers['content-length']).toBe('6');

    // The last chunk never goes: the browser sees a connection cut before Content-Length.
    exportPlan = { name: 'image.tar.gz', chunks: ['abc', 'def'], fail: 'midway' };
    await expect(send(bridge, `/api/export?${query}`, { headers: auth })).rejects.toThrow(
      /aborted|socket hang up|ECONNRESET/,
    );

    exportPlan = { name: 'image.tar.gz', chunks: [], fail: 'before' };
    const missing = await send(bridge, `/api/export?${query}`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.body).toBe(`No image ${'a'.repeat(64)} on local.`);

    const invalid = await send(bridge, '/api/export?remote=local&fingerprint=../../etc', {
      headers: auth,
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatch(/^Invalid input for images.exportDownload: fingerprint: /);
    const crossSite = await send(bridge, `/api/export?${query}`, {
      headers: { ...auth, 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    expect((await send(bridge, `/api/export?${query}`, { headers: { host } })).status).toBe(401);
  });

  it('serves nothing outside the renderer directory, whatever the request target says', async () => {
    expect((await raw(bridge, '/assets/app.js', auth)).body).toBe('console.log(1)');
    expect((await raw(bridge, '/', auth)).status).toBe(200);
    const { port } = new URL(bridge.origin);
    const targets = [
      // Encoded slashes: `new URL` keeps them, one decoding makes them separators.
      '/..%2foutside.txt',
      '/..%2Foutside.txt',
      '/assets/..%2f..%2foutside.txt',
      '/%2e%2e%2foutside.txt',
      '/%2e%2e/outside.txt',
      '/..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
      // A name that begins like the directory's own.
      `/..%2f${basename(join(dir, 'renderer-secret.txt'))}`,
      // Encoded backslashes, as Windows paths.
      '/..%5coutside.txt',
      '/%5c..%5coutside.txt',
      '/assets%5c..%5c..%5coutside.txt',
      // Absolute paths.
      '/%2fetc%2fpasswd',
      `/${encodeURIComponent(join(dir, 'outside.txt'))}`,
      '//etc/passwd',
      `http://127.0.0.1:${port}/../outside.txt`,
      // Double encoding: decoded once, never twice.
      '/%252e%252e%252foutside.txt',
      '/..%252foutside.txt',
      // Raw traversal, as a client that does not normalise sends it.
      '/../outside.txt',
      '/assets/../../outside.txt',
      '/./../outside.txt',
      '/%00../outside.txt',
      '/%c0%ae%c0%ae/outside.txt',
    ];
    for (const target of targets) {
      const answer = await raw(bridge, target, auth);
      expect({ target, status: answer.status }).toEqual({ target, status: 404 });
      expect(answer.body).not.toContain('secret');
      expect(answer.body).not.toContain('root:');
    }
  });

  it(`refuses an upload reservation over ${MAX_BODY_BYTES / 1024} KiB, announced or streamed`, async () => {
    const big = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES + 10), size: 1 });
    const announced = await reserve(JSON.parse(big));
    expect(announced.status).toBe(413);
    expect(announced.body).toBe('Request body too large: calls take at most 1024 KiB of JSON.');
    const streamed = await sendChunked(
      bridge,
      '/api/upload',
      { ...auth, 'content-type': 'application/json' },
      Array.from({ length: 40 }, () => Buffer.alloc(64 * 1024, 0x20)),
    );
    expect(streamed.status).toBe(413);
  });

  it(`closes a socket that sends a call frame over ${MAX_BODY_BYTES / 1024} KiB, and answers one just under`, async () => {
    const under = await openSocket({ ...auth, origin: bridge.origin });
    const padding = ' '.repeat(MAX_BODY_BYTES - 100);
    under.socket.send(`{"id":7,"call":"remotes.list","input":{}}${padding}`);
    const answer = await new Promise<unknown>((resolve) =>
      under.socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()))),
    );
    expect(answer).toEqual({ id: 7, envelope: { ok: true, value: [{ name: 'local' }] } });
    under.socket.close();
    const over = await openSocket({ ...auth, origin: bridge.origin });
    over.socket.send('x'.repeat(MAX_BODY_BYTES + 1));
    expect(await over.closed).toBe(1009);
  });

  it('streams events to an authorized socket and refuses foreign origins', async () => {
    const url = `ws://${host}/api/socket`;
    const foreign = new WebSocket(url, {
      headers: { authorization: `Bearer ${bridge.token}`, origin: 'http://evil.example' },
    });
    const refused = await new Promise<boolean>((resolve) => {
      foreign.on('open', () => resolve(false));
      foreign.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);

    const anonymous = new WebSocket(url, { headers: { origin: bridge.origin } });
    expect(
      await new Promise<boolean>((resolve) => {
        anonymous.on('open', () => resolve(false));
        anonymous.on('error', () => resolve(true));
      }),
    ).toBe(true);

    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${bridge.token}`, origin: bridge.origin },
    });
    await new Promise((resolve) => socket.on('open', resolve));
    const received = new Promise<unknown>((resolve) =>
      socket.on('message', (data: Buffer) => resolve(JSON.parse(data.toString()))),
    );
    events.emit('images.changed', { remote: 'local', project: 'default', action: 'image-created' });
    expect(await received).toEqual({
      event: 'images.changed',
      payload: { remote: 'local', project: 'default', action: 'image-created' },
    });
    socket.close();
  });
});
