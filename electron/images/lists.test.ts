/**
 * Held lists on a real daemon: a list read once is kept current by LXD's events, so opening
 * another window or switching back does not make LXD list every image again (~5 ms of its CPU
 * per image); the Refresh button and a broken events stream do. Images live in a project of
 * their own on the sandbox's local daemon, so other tests' lists stay as they were.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { EventMessage, RemoteSummary } from '../../shared/contract.js';
import { decodeChunk } from '../../shared/images/listed.js';
import { LXC_SORT } from '../../shared/images/view.js';
import { deleteProject } from '../../scripts/sandbox/projects.js';
import { EventHub } from '../event-hub.js';
import { LxdConnection } from '../remotes/lxd-connection.js';
import { ImageLists } from './lists.js';

const sandbox = inject('sandbox');
const project = `lists-${process.pid}`;
const unified = sandbox.fixtures.find((fixture) => fixture.key === 'unified');
const run = promisify(execFile);
const lxc = (...args: string[]) =>
  run('lxc', [...args, '--project', project], {
    env: { ...process.env, LXD_DIR: sandbox.localDir },
  });

const hub = new EventHub();
const connection = new LxdConnection(
  'local',
  () =>
    Promise.resolve({
      endpoint: { kind: 'unix', socketPath: join(sandbox.localDir, 'unix.socket') },
      tried: [],
      hint: () => '',
      expectTrusted: false,
    }),
  hub,
);
const summary = { name: 'local', addr: 'unix://' } as RemoteSummary;
const lists = new ImageLists({
  remotes: { connection: () => connection, list: () => [summary] },
  hub,
  batchMs: 20,
});
const scope = { remote: 'local', project };
const query = { filter: '', sort: LXC_SORT, offset: 0, limit: 10 };

beforeAll(async () => {
  await run('lxc', ['project', 'create', project, '-c', 'features.profiles=false'], {
    env: { ...process.env, LXD_DIR: sandbox.localDir },
  });
  await lxc('image', 'import', ...(unified?.files ?? []), '--alias', 'lists/one');
  await connection.connect();
});

afterAll(async () => {
  await lists.close();
  await connection.close();
  await deleteProject(sandbox.localDir, project);
});

/** Resolves with the next list change Hangar announces for the project. */
const nextChange = () =>
  new Promise<void>((resolve) => {
    const stop = hub.subscribe((message: EventMessage) => {
      if (message.event !== 'images.listChanged' || message.payload.project !== project) return;
      stop();
      resolve();
    });
  });

describe('held LXD lists', () => {
  it('are read from LXD once while its events keep them current, and again on Refresh or after the events stream broke', async () => {
    const reads = vi.spyOn(connection, 'listImages');
    const first = await lists.loadView(scope, query);
    expect(first).toMatchObject({ state: 'fresh', total: 1 });
    expect(reads).toHaveBeenCalledTimes(1);

    // Another window, or a switch back: the held list, without a listing.
    expect(await lists.loadView(scope, query)).toEqual(first);
    expect(reads).toHaveBeenCalledTimes(1);

    // A change made outside Hangar reaches the held list through LXD's events.
    const changed = nextChange();
    await lxc('image', 'set-property', unified?.fingerprint ?? '', 'description', 'edited');
    await changed;
    const edited = await lists.loadView(scope, query);
    expect(edited.version).toBeGreaterThan(first.version);
    expect(edited.rows[0]?.description).toBe('edited');
    expect(reads).toHaveBeenCalledTimes(1);

    // The Refresh button asks LXD whatever Hangar holds.
    await lists.loadView(scope, query, { refresh: true });
    expect(reads).toHaveBeenCalledTimes(2);

    // A new events stream (after a reconnection) may have missed changes: the list is read again.
    await connection.reconnect();
    expect(await lists.loadView(scope, query)).toMatchObject({ state: 'fresh', total: 1 });
    expect(reads).toHaveBeenCalledTimes(3);
    await lists.loadView(scope, query);
    expect(reads).toHaveBeenCalledTimes(3);

    // Past its age, a list is read again however live its stream looks (a remote's connection
    // can die without a word).
    const aging = new ImageLists({
      remotes: { connection: () => connection, list: () => [summary] },
      hub,
      watchedMaxAgeMs: 0,
    });
    await aging.loadView(scope, query);
    await aging.loadView(scope, query);
    await aging.close();
    expect(reads).toHaveBeenCalledTimes(5);
  });

  it("give a window the compact copy of the version it shows, made once per version, and a changed list's new one", async () => {
    const shown = await lists.loadView(scope, query);
    const chunk = await lists.chunk(scope, 0, 100);
    expect(chunk).toMatchObject({ version: shown.version, total: shown.total, offset: 0 });
    // Every window asks for the same chunks: the second is the one made for the first.
    expect(await lists.chunk(scope, 0, 100)).toBe(chunk);
    expect(decodeChunk(chunk).images.map((image) => image.fingerprint)).toEqual([
      unified?.fingerprint,
    ]);

    const changed = nextChange();
    await lxc('image', 'set-property', unified?.fingerprint ?? '', 'os', 'Copied');
    await changed;
    const after = await lists.chunk(scope, 0, 100);
    expect(after.version).toBeGreaterThan(chunk.version);
    expect(decodeChunk(after).images[0]?.properties.os).toBe('Copied');

    // No list held (nor kept) for a scope: an empty copy of no version, never another list's.
    expect(await lists.chunk({ remote: 'local', project: `${project}-none` }, 0, 100)).toEqual({
      version: 0,
      total: 0,
      offset: 0,
      strings: [],
      data: [],
    });
  });
});
