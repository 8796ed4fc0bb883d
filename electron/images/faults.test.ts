/**
 * Faults while Hangar is open, against LXD daemons of this file's own (the
 * shared sandbox daemons are never killed): a daemon killed during a list, a
 * copy and an export; a full disk during an export; a remote that accepts
 * the connection and never answers. Each shows within seconds, recovers
 * without a new Hangar, and leaves nothing half-made.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationSummary, RemoteStatus } from '../../shared/contract.js';
import type { Envelope, HangarErrorData } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { startDaemon, unmountUnder, type SandboxDaemon } from '../../scripts/sandbox/daemon.js';
import { tar } from '../../scripts/sandbox/tar.js';
import { startThrottleProxy, type ThrottleProxy } from '../../scripts/sandbox/throttle-proxy.js';
import { addTrustedRemote } from '../../scripts/sandbox/trusted-remote.js';
import { dispatch } from '../dispatch.js';
import { createHangar, type Hangar } from '../hangar.js';
import { watchOperation } from '../operations/watch.js';
import { plaintextCodec } from '../remotes/identity.js';

const run = promisify(execFile);

let dir: string;
/** Hangar's `local`: killed during a list and during a copy into it. */
let target: SandboxDaemon;
/** The remote `origin`, behind a slow link: killed during an export from it. */
let origin: SandboxDaemon;
let link: ThrottleProxy;
let hangar: Hangar;
let big: { fingerprint: string; size: number };
const cleanups: (() => Promise<unknown>)[] = [];

async function call<T>(name: string, input: unknown): Promise<T> {
  const envelope = (await dispatch(hangar.handlers, name, input)) as Envelope<T>;
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

async function refusal(name: string, input: unknown): Promise<HangarErrorData> {
  const envelope = await dispatch(hangar.handlers, name, input);
  if (envelope.ok) throw new Error(`${name} succeeded`);
  return envelope.error;
}

const status = (remote: string) => call<RemoteStatus>('remotes.status', { remote });

/** Milliseconds until the remote's status reaches `state`. */
async function statusReaches(
  remote: string,
  state: RemoteStatus['state'],
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const current = await status(remote);
    if (current.state === state) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `${remote} is ${JSON.stringify(current)}, not ${state}, after ${timeoutMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The pid of a daemon started by startDaemon (found as its kill() finds it). */
async function daemonPid(daemon: SandboxDaemon): Promise<number> {
  const { stdout } = await run('pgrep', [
    '-f',
    `lxd --group root --logfile ${join(daemon.dir, 'lxd.log')}`,
  ]);
  const pid = Number(stdout.trim().split('\n')[0]);
  if (!Number.isInteger(pid)) throw new Error(`no pid for the daemon in ${daemon.dir}`);
  return pid;
}

const imagesOn = async (daemon: SandboxDaemon) =>
  (await daemon.lxc(['image', 'list', '--format', 'csv', '-c', 'F'])).trim();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-faults-'));
  [target, origin] = await Promise.all([
    startDaemon(join(dir, 'target')),
    startDaemon(join(dir, 'origin')),
  ]);
  cleanups.push(() =>
    Promise.all([target.stop({ removeFiles: true }), origin.stop({ removeFiles: true })]),
  );
  // Random bytes, so nothing compresses them away: 24 MiB take seconds over the slow link.
  const tarball = tar([
    { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1700000000\n' },
    { path: 'rootfs' },
    { path: 'rootfs/blob', content: randomBytes(24 * 1024 * 1024) },
  ]);
  await writeFile(join(dir, 'big.tar'), tarball);
  await origin.lxc(['image', 'import', join(dir, 'big.tar'), '--alias', 'faults/big']);
  await rm(join(dir, 'big.tar'));
  big = { fingerprint: createHash('sha256').update(tarball).digest('hex'), size: tarball.length };
  const [host = '', port = ''] = origin.httpsAddress.split(':');
  link = await startThrottleProxy({ host, port: Number(port) });
  cleanups.push(() => link.close());
  hangar = await createHangar({
    env: { LXD_DIR: target.dir, HOME: dir },
    dataDir: join(dir, 'data'),
    secrets: plaintextCodec('test'),
    retryMs: 200,
    // Short, so that a server that never answers is noticed within the test.
    lxdLimits: { connectTimeoutMs: 1000, answerTimeoutMs: 2000 },
  });
  cleanups.push(() => hangar.close());
  await addTrustedRemote(hangar.handlers, {
    name: 'origin',
    lxdDir: origin.dir,
    addr: link.address,
  });
  await statusReaches('local', 'online', 10_000);
  await statusReaches('origin', 'online', 10_000);
});

afterAll(async () => {
  // In reverse order of starting; whatever beforeAll got to.
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await unmountUnder(dir);
  await rm(dir, { recursive: true, force: true });
});

describe('LXD killed while Hangar is open', () => {
  it('during a list: the list fails and the remote goes unreachable at once; both come back', async () => {
    // Frozen first, so that the list is surely in flight when the daemon dies.
    const pid = await daemonPid(target);
    process.kill(pid, 'SIGSTOP');
    const listing = refusal('images.list', { remote: 'local' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await target.kill();
    const killedAt = Date.now();
    const error = await listing;
    const failedAfter = Date.now() - killedAt;
    const unreachableAfter = await statusReaches('local', 'unreachable', 5000);
    expect(error.code).toBe('lxd-unreachable');
    expect(error.message).toMatch(/^Cannot reach LXD at unix socket .* \(remote "local"\): /);
    expect(failedAfter).toBeLessThan(2000);
    const down = await status('local');
    expect(down.state === 'unreachable' && down.error.code).toBe('lxd-unreachable');

    await startDaemon(target.dir);
    const restartedAt = Date.now();
    const onlineAfter = await statusReaches('local', 'online', 10_000);
    expect(await call<LxdImage[]>('images.list', { remote: 'local' })).toEqual([]);
    console.info(
      `list: failed ${failedAfter} ms after the kill, unreachable after ${unreachableAfter} ms more; online ${onlineAfter} ms after the restart (${Date.now() - restartedAt} ms with a new list)`,
    );
  }, 60_000);

  it('during a copy into it: the copy fails within seconds, and no image is left after the restart', async () => {
    link.setRate(2 * 1024 * 1024);
    let restarted = false;
    try {
      const started = await call<OperationSummary>('images.copy', {
        source: { remote: 'origin', image: 'faults/big' },
        target: { remote: 'local' },
        aliases: ['faults/copied'],
        copyAliases: false,
        autoUpdate: false,
        public: false,
      });
      await watchOperation(hangar.handlers, started.id, {
        reached: (current) => (current.progress?.percent ?? 0) > 5,
        timeoutMs: 20_000,
      });
      await target.kill();
      const killedAt = Date.now();
      const ended = await watchOperation(hangar.handlers, started.id, { timeoutMs: 10_000 });
      const failedAfter = Date.now() - killedAt;
      expect(ended).toMatchObject({ state: 'failed', error: { code: 'lxd-unreachable' } });
      expect(ended.error?.message).toMatch(
        /^Cannot reach LXD at unix socket .* \(remote "local"\): /,
      );
      expect(failedAfter).toBeLessThan(3000);
      await statusReaches('local', 'unreachable', 5000);

      await startDaemon(target.dir);
      restarted = true;
      expect(await imagesOn(target)).toBe('');
      const onlineAfter = await statusReaches('local', 'online', 10_000);
      expect(await call<LxdImage[]>('images.list', { remote: 'local' })).toEqual([]);
      const leftovers = await readdir(join(target.dir, 'images'));
      console.info(
        `copy: failed ${failedAfter} ms after the kill (${ended.error?.message ?? ''}); online ${onlineAfter} ms after the restart; files left in LXD's images folder: ${leftovers.length === 0 ? 'none' : leftovers.join(', ')}`,
      );
    } finally {
      link.setRate(Infinity);
      if (!restarted) await startDaemon(target.dir);
    }
  }, 60_000);

  it('during an export from it: the export fails within seconds, leaving no file; the next one works', async () => {
    const out = join(dir, 'exports');
    await mkdir(out);
    link.setRate(4 * 1024 * 1024);
    try {
      const started = await call<OperationSummary>('images.export', {
        remote: 'origin',
        fingerprint: big.fingerprint,
        directory: out,
      });
      await watchOperation(hangar.handlers, started.id, {
        reached: (current) => (current.progress?.processed ?? 0) > 2 * 1024 * 1024,
        timeoutMs: 20_000,
      });
      expect((await readdir(out)).some((name) => name.endsWith('.hangar-partial'))).toBe(true);
      await origin.kill();
      const killedAt = Date.now();
      const ended = await watchOperation(hangar.handlers, started.id, { timeoutMs: 15_000 });
      const failedAfter = Date.now() - killedAt;
      expect(ended).toMatchObject({ state: 'failed', error: { code: 'lxd-unreachable' } });
      expect(ended.error?.message).toMatch(
        new RegExp(`^Cannot reach LXD at https://${link.address} \\(remote "origin"\\): `),
      );
      expect(failedAfter).toBeLessThan(5000);
      expect(await readdir(out)).toEqual([]);
      await statusReaches('origin', 'unreachable', 5000);
      console.info(
        `export: failed ${failedAfter} ms after the kill (${ended.error?.message ?? ''})`,
      );
    } finally {
      link.setRate(Infinity);
      // Back for the next tests, whatever happened here.
      await startDaemon(origin.dir);
    }
    const onlineAfter = await statusReaches('origin', 'online', 10_000);
    const again = await call<OperationSummary>('images.export', {
      remote: 'origin',
      fingerprint: big.fingerprint,
      directory: out,
    });
    const done = await watchOperation(hangar.handlers, again.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('succeeded');
    const [file = ''] = done.result?.files ?? [];
    expect(
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    ).toBe(big.fingerprint);
    expect(await readdir(out)).toEqual([basename(file)]);
    console.info(`export: origin online ${onlineAfter} ms after the restart`);
  }, 90_000);
});

describe('a full disk during an export', () => {
  it('fails with the reason and leaves no file', async () => {
    const full = join(dir, 'full');
    await mkdir(full);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', full]);
    // A failed write must not escape as an unhandled rejection (it would end Hangar's process).
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const started = await call<OperationSummary>('images.export', {
        remote: 'origin',
        fingerprint: big.fingerprint,
        directory: full,
      });
      const ended = await watchOperation(hangar.handlers, started.id, { timeoutMs: 30_000 });
      expect(ended.state).toBe('failed');
      expect(ended.error?.message).toMatch(/no space left on device/i);
      expect(ended.error?.message).toContain(full);
      expect(await readdir(full)).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(unhandled).toEqual([]);
      // The remote is fine: a full disk is not a lost server.
      expect((await status('origin')).state).toBe('online');
      console.info(`full disk: ${ended.error?.code ?? ''}: ${ended.error?.message ?? ''}`);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await run('umount', [full]);
    }
  }, 60_000);
});

describe('a remote that accepts the connection and never answers', () => {
  it('times out with a message naming the remote, and comes back when it answers again', async () => {
    // In front of origin: forwards, or accepts and keeps silent (before TLS, or after it with
    // origin's own certificate, so that only HTTP is missing).
    let mode: 'forward' | 'tcp' | 'tls' = 'forward';
    const sockets = new Set<Socket>();
    const [host = '', port = ''] = origin.httpsAddress.split(':');
    const [cert, key] = await Promise.all([
      readFile(join(origin.dir, 'server.crt'), 'utf8'),
      readFile(join(origin.dir, 'server.key'), 'utf8'),
    ]);
    const tls = createTlsServer({ cert, key }, (secure) => {
      sockets.add(secure);
      secure.on('error', () => undefined);
    });
    const front = createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => undefined);
      if (mode === 'tcp') return;
      if (mode === 'tls') {
        tls.emit('connection', client);
        return;
      }
      const upstream = connect({ host, port: Number(port) });
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(front.address() as AddressInfo).port}`;
    const silence = (next: typeof mode) => {
      mode = next;
      for (const socket of sockets) socket.destroy();
    };
    try {
      await addTrustedRemote(hangar.handlers, { name: 'quiet', lxdDir: origin.dir, addr: address });
      await statusReaches('quiet', 'online', 10_000);

      silence('tcp');
      let started = Date.now();
      const tcp = await refusal('images.list', { remote: 'quiet' });
      const tcpAfter = Date.now() - started;
      expect(tcp.code).toBe('lxd-unreachable');
      expect(tcp.message).toBe(
        `Cannot reach LXD at https://${address} (remote "quiet"): the connection and its TLS handshake did not complete within 1 s.`,
      );
      expect(tcpAfter).toBeLessThan(4000);

      silence('tls');
      // The next attempt (every 200 ms) meets the new silence.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      started = Date.now();
      const http = await refusal('images.list', { remote: 'quiet' });
      const httpAfter = Date.now() - started;
      expect(http.code).toBe('lxd-unreachable');
      expect(http.message).toBe(
        `Cannot reach LXD at https://${address} (remote "quiet"): the server accepted the connection but did not answer within 2 s.`,
      );
      expect(httpAfter).toBeLessThan(6000);
      const shown = await status('quiet');
      expect(shown.state === 'unreachable' && shown.error.message).toMatch(/remote "quiet"/);

      silence('forward');
      const onlineAfter = await statusReaches('quiet', 'online', 10_000);
      expect(
        (await call<LxdImage[]>('images.list', { remote: 'quiet' })).map(
          (image) => image.fingerprint,
        ),
      ).toContain(big.fingerprint);
      console.info(
        `silent remote: TCP only ${tcpAfter} ms, TLS without HTTP ${httpAfter} ms; online ${onlineAfter} ms after it answers again`,
      );
    } finally {
      silence('forward');
      await call('remotes.remove', { remote: 'quiet' }).catch(() => undefined);
      await new Promise<void>((resolve) => front.close(() => resolve()));
    }
  }, 60_000);
});
