/**
 * The services as the renderer sees them, through dispatch, against real
 * daemons: the sandbox's, and a private one this test starts, kills and
 * restarts to prove the app recovers by itself.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { EventMessage, RemoteStatus } from '../shared/contract.js';
import type { LxdImage } from '../shared/lxd.js';
import { startDaemon, type SandboxDaemon } from '../scripts/sandbox/daemon.js';
import { dispatch } from './dispatch.js';
import { createHangar, type Hangar } from './hangar.js';
import { plaintextCodec } from './remotes/identity.js';
import { scratchDirs } from '../scripts/testing/scratch-dirs.js';

const sandbox = inject('sandbox');
const scratch = scratchDirs();
const opened: Hangar[] = [];
afterAll(async () => {
  await Promise.all(opened.map((hangar) => hangar.close()));
});

async function open(env: NodeJS.ProcessEnv): Promise<{ hangar: Hangar; messages: EventMessage[] }> {
  const hangar = await createHangar({
    env,
    retryMs: 200,
    dataDir: await scratch('hangar-data-'),
    secrets: plaintextCodec('test'),
  });
  opened.push(hangar);
  const messages: EventMessage[] = [];
  hangar.events.subscribe((message) => messages.push(message));
  return { hangar, messages };
}

async function status(hangar: Hangar): Promise<RemoteStatus> {
  const envelope = await dispatch(hangar.handlers, 'remotes.status', { remote: 'local' });
  if (!envelope.ok) throw new Error(envelope.error.message);
  return envelope.value as RemoteStatus;
}

describe('images through the services', () => {
  it('lists and reads the sandbox images for the renderer', async () => {
    const { hangar } = await open({ LXD_DIR: sandbox.localDir });
    const list = await dispatch(hangar.handlers, 'images.list', { remote: 'local' });
    expect(list.ok).toBe(true);
    if (!list.ok) return;
    const images = list.value as LxdImage[];
    expect(images.map((i) => i.fingerprint).sort()).toEqual(
      sandbox.fixtures.map((f) => f.fingerprint).sort(),
    );
    const multi = sandbox.fixtures.find((f) => f.key === 'multi');
    const one = await dispatch(hangar.handlers, 'images.get', {
      remote: 'local',
      fingerprint: multi?.fingerprint.slice(0, 8),
    });
    expect(one).toMatchObject({
      ok: true,
      value: { fingerprint: multi?.fingerprint, aliases: multi?.aliases },
    });
    const aliases = await dispatch(hangar.handlers, 'images.aliases', { remote: 'local' });
    expect(aliases).toMatchObject({ ok: true });
    if (aliases.ok) {
      const expected = sandbox.fixtures.flatMap((f) =>
        f.aliases.map((a) => ({ ...a, target: f.fingerprint })),
      );
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      const received = (aliases.value as typeof expected).map(({ name, description, target }) => ({
        name,
        description,
        target,
      }));
      expect(received.sort(byName)).toEqual(expected.sort(byName));
    }
    // The remotes of a fresh lxc 5.0 client, with the local socket LXD_DIR names.
    expect(await dispatch(hangar.handlers, 'remotes.list', {})).toEqual({
      ok: true,
      value: [
        {
          name: 'local',
          protocol: 'lxd',
          addr: `unix://${sandbox.localDir}/unix.socket`,
          authType: 'file access',
          public: false,
          static: true,
          isDefault: true,
        },
        {
          name: 'ubuntu',
          protocol: 'simplestreams',
          addr: 'https://cloud-images.ubuntu.com/releases',
          authType: 'none',
          public: true,
          static: true,
          isDefault: false,
        },
        {
          name: 'ubuntu-daily',
          protocol: 'simplestreams',
          addr: 'https://cloud-images.ubuntu.com/daily',
          authType: 'none',
          public: true,
          static: true,
          isDefault: false,
        },
        {
          name: 'images',
          protocol: 'simplestreams',
          addr: 'https://images.linuxcontainers.org',
          authType: 'none',
          public: true,
          static: false,
          isDefault: false,
        },
      ],
    });
    expect(await dispatch(hangar.handlers, 'projects.list', { remote: 'local' })).toEqual({
      ok: true,
      value: ['default'],
    });
    await expect.poll(async () => (await status(hangar)).state).toBe('online');
  });

  it('answers an unknown remote with a specific error', async () => {
    const { hangar } = await open({ LXD_DIR: sandbox.localDir });
    expect(await dispatch(hangar.handlers, 'images.list', { remote: 'nowhere' })).toEqual({
      ok: false,
      error: { code: 'unknown-remote', message: 'There is no remote named "nowhere".' },
    });
  });
});

describe('the local remote through a daemon’s life', () => {
  it('reports the socket it tried, connects once LXD starts, streams image changes, and recovers after a crash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hangar-life-'));
    const socket = join(dir, 'unix.socket');
    let daemon: SandboxDaemon | undefined;
    try {
      const { hangar, messages } = await open({ LXD_DIR: dir });

      // No daemon yet: a specific error naming the socket, and a hint.
      await expect.poll(async () => (await status(hangar)).state).toBe('unreachable');
      const down = await status(hangar);
      expect(down).toMatchObject({ state: 'unreachable', tried: [socket] });
      if (down.state === 'unreachable') {
        expect(down.error.message).toBe(`No LXD socket found (looked at ${socket}).`);
        expect(down.hint).toMatch(/Install LXD/);
      }
      const failed = await dispatch(hangar.handlers, 'images.list', { remote: 'local' });
      expect(failed).toMatchObject({ ok: false, error: { code: 'lxd-unreachable' } });

      // The daemon appears: Hangar connects by itself.
      daemon = await startDaemon(dir);
      await expect
        .poll(async () => (await status(hangar)).state, { timeout: 10_000 })
        .toBe('online');
      expect(
        messages.some((m) => m.event === 'remote.status' && m.payload.status.state === 'online'),
      ).toBe(true);

      // An image change in LXD reaches the renderer as an event.
      const fixture = sandbox.fixtures.find((f) => f.key === 'public');
      await daemon.lxc(['image', 'import', ...(fixture?.files ?? [])]);
      await expect
        .poll(() =>
          messages.some(
            (m) => m.event === 'images.changed' && m.payload.fingerprint === fixture?.fingerprint,
          ),
        )
        .toBe(true);

      // The daemon dies mid-session: a clear error within seconds…
      await daemon.kill();
      const lostAt = Date.now();
      await expect
        .poll(async () => (await status(hangar)).state, { timeout: 10_000 })
        .toBe('unreachable');
      expect(Date.now() - lostAt).toBeLessThan(5000);
      const lost = await status(hangar);
      if (lost.state === 'unreachable')
        expect(lost.error.message).toMatch(new RegExp(socket.replace(/[.]/g, '\\.')));

      // …and it comes back without the user doing anything.
      daemon = await startDaemon(dir);
      await expect
        .poll(async () => (await status(hangar)).state, { timeout: 10_000 })
        .toBe('online');
      const again = await dispatch(hangar.handlers, 'images.list', { remote: 'local' });
      expect(again).toMatchObject({
        ok: true,
        value: [expect.objectContaining({ fingerprint: fixture?.fingerprint })],
      });
    } finally {
      await daemon?.stop({ removeFiles: true });
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('the folder picker', () => {
  it("is the desktop app's dialog where there is one, and a clear refusal in web mode", async () => {
    const { hangar: web } = await open({ LXD_DIR: sandbox.localDir });
    expect(await dispatch(web.handlers, 'app.info', {})).toMatchObject({
      ok: true,
      value: { canChooseFolder: false },
    });
    expect(await dispatch(web.handlers, 'app.chooseFolder', { title: 'Export to' })).toEqual({
      ok: false,
      error: {
        code: 'invalid-input',
        message: 'Choosing a folder needs the desktop app: in web mode, type the folder path.',
      },
    });

    // Electron's dialog cannot run here: a stand-in answers as it would.
    const asked: unknown[] = [];
    const desktop = await createHangar({
      env: { LXD_DIR: sandbox.localDir },
      dataDir: await scratch('hangar-data-'),
      secrets: plaintextCodec('test'),
      chooseFolder: (options) => {
        asked.push(options);
        return Promise.resolve(asked.length === 1 ? '/home/user/exports' : null);
      },
    });
    opened.push(desktop);
    expect(await dispatch(desktop.handlers, 'app.info', {})).toMatchObject({
      ok: true,
      value: { canChooseFolder: true },
    });
    const input = { title: 'Export to', defaultPath: '/home/user' };
    expect(await dispatch(desktop.handlers, 'app.chooseFolder', input)).toEqual({
      ok: true,
      value: '/home/user/exports',
    });
    expect(await dispatch(desktop.handlers, 'app.chooseFolder', input)).toEqual({
      ok: true,
      value: null,
    });
    expect(asked).toEqual([input, input]);
  });
});
