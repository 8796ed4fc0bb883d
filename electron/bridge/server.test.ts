import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Handlers } from '../../shared/contract.js';
import { EventHub } from '../event-hub.js';
import { StagedUploads } from '../images/staged-uploads.js';
import { startBridge, type Bridge } from './server.js';

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
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const events = new EventHub();
const handlers = {
  'remotes.list': () => Promise.resolve([{ name: 'local' }]),
} as unknown as Handlers;
let bridge: Bridge;
let uploads: StagedUploads;
let dir: string;
let host: string;
let auth: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-bridge-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Hangar</title>');
  await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(tmpdir(), 'outside.txt'), 'secret');
  uploads = new StagedUploads(join(dir, 'uploads'));
  bridge = await startBridge({ hangar: { handlers, events, uploads }, staticDir: dir });
  host = new URL(bridge.origin).host;
  auth = { host, authorization: `Bearer ${bridge.token}` };
});
afterAll(async () => {
  await bridge.close();
  await rm(dir, { recursive: true, force: true });
});

const call = (headers: Record<string, string>, body = '{}') =>
  send(bridge, '/api/call/remotes.list', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
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
    expect((await call({ host })).status).toBe(401);
    expect((await call({ host, authorization: 'Bearer wrong' })).status).toBe(401);
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
  });

  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    expect(
      (await call({ ...auth, host: `evil.example:${new URL(bridge.origin).port}` })).status,
    ).toBe(421);
  });

  it('refuses calls from another origin, and non-JSON calls', async () => {
    expect((await call({ ...auth, origin: 'http://evil.example' })).status).toBe(403);
    expect((await call({ ...auth, origin: bridge.origin })).status).toBe(200);
    const form = await send(bridge, '/api/call/remotes.list', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(form.status).toBe(415);
  });

  it('runs contract calls through dispatch and validates them', async () => {
    expect(JSON.parse((await call(auth)).body)).toEqual({ ok: true, value: [{ name: 'local' }] });
    const invalid = JSON.parse((await call(auth, '{"unexpected":1}')).body) as {
      ok: boolean;
      error: { code: string };
    };
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect((await call(auth, '{not json')).status).toBe(400);
  });

  it('stages an upload privately for an import, and refuses uploads without the token or from elsewhere', async () => {
    const bytes = Buffer.alloc(300_000, 7).toString('latin1');
    const headers = {
      ...auth,
      'content-type': 'application/octet-stream',
      'x-hangar-filename': encodeURIComponent('my image.tar.gz'),
    };
    expect(
      (
        await send(bridge, '/api/upload', {
          method: 'POST',
          headers: { ...headers, authorization: '' },
          body: 'x',
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await send(bridge, '/api/upload', {
          method: 'POST',
          headers: { ...headers, origin: 'http://evil.example' },
          body: 'x',
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await send(bridge, '/api/upload', {
          method: 'POST',
          headers: { ...headers, 'content-type': 'text/plain' },
          body: 'x',
        })
      ).status,
    ).toBe(415);
    const answer = await send(bridge, '/api/upload', { method: 'POST', headers, body: bytes });
    const envelope = JSON.parse(answer.body) as {
      ok: true;
      value: { id: string; name: string; size: number };
    };
    expect(envelope.value).toMatchObject({ name: 'my image.tar.gz', size: 300_000 });
    const staged = uploads.get(envelope.value.id);
    expect((await stat(staged.path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'uploads'))).mode & 0o777).toBe(0o700);
    expect((await readFile(staged.path)).equals(Buffer.from(bytes, 'latin1'))).toBe(true);
    await uploads.release(envelope.value.id);
    await expect(stat(staged.path)).rejects.toThrow(/ENOENT/);
    expect(() => uploads.get(envelope.value.id)).toThrow(/drop it again/);
  });

  it('serves nothing outside the renderer directory', async () => {
    expect((await send(bridge, '/../outside.txt', { headers: auth })).status).toBe(404);
    expect((await send(bridge, '/%2e%2e/outside.txt', { headers: auth })).status).toBe(404);
    expect((await send(bridge, '/assets/app.js', { headers: auth })).body).toBe('console.log(1)');
  });

  it('streams events to an authorized socket and refuses foreign origins', async () => {
    const url = `ws://${host}/api/events`;
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
