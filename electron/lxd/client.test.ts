/** The LXD client against the sandbox's real daemons. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { HangarError } from '../../shared/errors.js';
import type { LxdEvent, LxdImage, LxdServerInfo } from '../../shared/lxd.js';
import { tar } from '../../scripts/sandbox/tar.js';
import { LxdClient } from './client.js';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const lxc = (dir: string, ...args: string[]) =>
  run('lxc', args, { env: { ...process.env, LXD_DIR: dir } });
const local = new LxdClient({ kind: 'unix', socketPath: join(sandbox.localDir, 'unix.socket') });
afterAll(() => local.close());

async function rejection(promise: Promise<unknown>): Promise<HangarError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HangarError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('LXD client over the unix socket', () => {
  it('lists the same images as `lxc image list`', async () => {
    const images = await local.get<LxdImage[]>('/1.0/images', { query: { recursion: '1' } });
    const { stdout } = await lxc(sandbox.localDir, 'image', 'list', '--format', 'json');
    const fromCli = JSON.parse(stdout) as LxdImage[];
    const byFingerprint = (list: LxdImage[]) => list.map((i) => i.fingerprint).sort();
    expect(byFingerprint(images)).toEqual(byFingerprint(fromCli));
    expect(byFingerprint(images)).toEqual(sandbox.fixtures.map((f) => f.fingerprint).sort());
  });

  it('reads one image by a short fingerprint prefix, with its aliases and properties', async () => {
    const unicode = sandbox.fixtures.find((f) => f.key === 'unicode');
    if (unicode === undefined) throw new Error('fixture missing');
    const image = await local.get<LxdImage>(`/1.0/images/${unicode.fingerprint.slice(0, 12)}`);
    expect(image.fingerprint).toBe(unicode.fingerprint);
    expect(image.properties['user.note']).toBe('日本語のメモ with  two spaces');
    expect(image.aliases).toEqual([
      { name: 'fixture/unicode', description: 'Ünïcödé alias description' },
    ]);
  });

  it("keeps LXD's own error message and status", async () => {
    const error = await rejection(local.get('/1.0/images/0000deadbeef'));
    expect(error.code).toBe('not-found');
    expect(error.status).toBe(404);
    expect(error.message).toMatch(/not found/i);
  });

  it('passes the project parameter', async () => {
    const error = await rejection(local.get('/1.0/images', { project: 'no-such-project' }));
    expect(error.status).toBe(404);
    expect(error.message).toMatch(/project/i);
  });

  it('says which socket it could not reach', async () => {
    const missing = new LxdClient({ kind: 'unix', socketPath: '/nonexistent/unix.socket' });
    const error = await rejection(missing.get('/1.0'));
    expect(error.code).toBe('lxd-unreachable');
    expect(error.message).toBe(
      'Cannot reach LXD at unix socket /nonexistent/unix.socket: the socket does not exist (is LXD installed and running?).',
    );
    await missing.close();
  });

  it('calls a request it could not send a bad request, not an unreachable LXD', async () => {
    // undici refuses a header value outside Latin-1 (or with a line break) before anything is sent.
    for (const value of ['образ-镜像.tar.xz', 'a\r\nb']) {
      const error = await rejection(
        local.request('/1.0', { headers: { 'x-lxd-filename': value } }),
      );
      expect(error.code).toBe('bad-request');
      expect(error.message).toMatch(/^Hangar built a request it cannot send \(GET \/1\.0\): /);
      expect(error.message).toContain('x-lxd-filename');
      expect(error.message).not.toMatch(/Cannot reach/);
    }
    // The connection is still fine.
    expect((await local.get<LxdServerInfo>('/1.0')).auth).toBe('trusted');
  });

  it("says when what it was sending failed, and keeps the body's own refusal", async () => {
    const failure = new Error('the disk went away');
    const broken = new Readable({ read: () => broken.destroy(failure) });
    const error = await rejection(local.upload('/1.0/images', broken, { method: 'POST' }));
    expect(error.code).toBe('internal');
    expect(error.message).toBe(
      'Reading what Hangar was sending to LXD (POST /1.0/images) failed: the disk went away. LXD keeps nothing of it.',
    );
    // A file that is missing is not a missing socket.
    const missing = createReadStream('/nonexistent/image.tar.gz');
    const unreadable = await rejection(local.upload('/1.0/images', missing, { method: 'POST' }));
    expect(unreadable.code).toBe('internal');
    expect(unreadable.message).toMatch(/ENOENT/);
    expect(unreadable.message).not.toMatch(/Cannot reach|socket does not exist/);
    // The inspector's refusal of a file passes through as it is.
    const refusal = new HangarError('invalid-image', 'x.tar is not an LXD image file.');
    const refused: Readable = new Readable({ read: () => refused.destroy(refusal) });
    expect(await rejection(local.upload('/1.0/images', refused, { method: 'POST' }))).toBe(refusal);
  });

  it('waits for an async operation to end while lifecycle events arrive on the events stream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hangar-op-'));
    const file = join(dir, 'throwaway.tar.gz');
    const tarball = gzipSync(
      tar([
        { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1700000123\n' },
        { path: 'rootfs' },
      ]),
    );
    await writeFile(file, tarball);
    const fingerprint = createHash('sha256').update(tarball).digest('hex');
    await lxc(sandbox.localDir, 'image', 'import', file);
    const events: LxdEvent[] = [];
    const stream = local.openEvents(['lifecycle'], {}, (event) => events.push(event));
    await stream.opened;
    // Deleting an image is an async operation in LXD.
    const response = await local.request(`/1.0/images/${fingerprint}`, { method: 'DELETE' });
    expect(response.type).toBe('async');
    if (response.type !== 'async') return;
    const done = await local.waitForOperation(response.operation, { onProgress: () => undefined });
    expect(done.status_code).toBe(200);
    await expect.poll(() => events.map((e) => e.metadata.action)).toContain('image-deleted');
    stream.close();
    await rm(dir, { recursive: true, force: true });
  });
});

describe('LXD client over HTTPS with a client certificate', () => {
  const url = `https://${sandbox.remoteHttps}`;

  it('pins the server certificate and is untrusted without a trusted client certificate: public images only', async () => {
    const serverCert = await readFile(join(sandbox.remoteDir, 'server.crt'), 'utf8');
    const client = new LxdClient({ kind: 'https', url, serverCert });
    const info = await client.get<LxdServerInfo>('/1.0');
    expect(info.auth).toBe('untrusted');
    const images = await client.get<LxdImage[]>('/1.0/images', { query: { recursion: '1' } });
    expect(images.map((i) => i.fingerprint)).toEqual(
      sandbox.fixtures.filter((f) => f.public).map((f) => f.fingerprint),
    );
    await client.close();
  });

  it('is trusted with a certificate the server trusts, and sees every image', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hangar-cert-'));
    const cert = join(dir, 'client.crt');
    const key = join(dir, 'client.key');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:secp384r1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=hangar-test',
    ]);
    await lxc(sandbox.remoteDir, 'config', 'trust', 'add', cert);
    const client = new LxdClient({
      kind: 'https',
      url,
      clientCert: await readFile(cert, 'utf8'),
      clientKey: await readFile(key, 'utf8'),
      serverCert: await readFile(join(sandbox.remoteDir, 'server.crt'), 'utf8'),
    });
    expect((await client.get<LxdServerInfo>('/1.0')).auth).toBe('trusted');
    const images = await client.get<LxdImage[]>('/1.0/images', { query: { recursion: '1' } });
    expect(images).toHaveLength(sandbox.fixtures.length);
    await client.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a server whose certificate is not the pinned one', async () => {
    const otherCert = await readFile(join(sandbox.localDir, 'server.crt'), 'utf8');
    const client = new LxdClient({ kind: 'https', url, serverCert: otherCert });
    const error = await rejection(client.get('/1.0'));
    expect(error.code).toBe('lxd-unreachable');
    await client.close();
  });
});
