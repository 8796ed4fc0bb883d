/**
 * Refresh and "update available" against the real sandbox daemons: images
 * copied with auto-update from the second daemon (trusted through its
 * Hangar remote, or as a public client at an address Hangar does not know)
 * and from a simplestreams server, whose aliases then move to new images.
 * Targets are a project of their own on the local daemon.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  Handlers,
  ImageUpdates,
  OperationSummary,
  RemoteSummary,
} from '../../shared/contract.js';
import type { Envelope, HangarErrorData } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { deleteProject } from '../../scripts/sandbox/projects.js';
import { tar } from '../../scripts/sandbox/tar.js';
import { startThrottleProxy } from '../../scripts/sandbox/throttle-proxy.js';
import { generateCatalog } from '../../scripts/simplestreams/catalog-generator.js';
import { startSimplestreamsServer } from '../../scripts/simplestreams/server.js';
import { dispatch } from '../dispatch.js';
import { EventHub } from '../event-hub.js';
import { Operations } from '../operations/registry.js';
import { operationHandlers } from '../operations/service.js';
import { watchOperation } from '../operations/watch.js';
import { plaintextCodec } from '../remotes/identity.js';
import { RemoteRegistry } from '../remotes/registry.js';
import { remoteHandlers } from '../remotes/service.js';
import { addTrustedRemote } from '../../scripts/sandbox/trusted-remote.js';
import { ImageLists } from './lists.js';
import { imageHandlers } from './service.js';
import { StagedUploads } from './staged-uploads.js';
import { updateHandlers } from './updates-service.js';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const project = `updates-${process.pid}`;
const TIMEOUT_MS = 2000;

const lxcLocal = async (...args: string[]) =>
  (await run('lxc', args, { env: { ...process.env, LXD_DIR: sandbox.localDir } })).stdout;
const lxcRemote = async (...args: string[]) =>
  (await run('lxc', args, { env: { ...process.env, LXD_DIR: sandbox.remoteDir } })).stdout;

let dir: string;
let remotes: RemoteRegistry;
let operations: Operations;
let uploads: StagedUploads;
let handlers: Handlers;
let checks: ReturnType<typeof updateHandlers>;
/** Images this file imported on the second daemon, deleted at the end. */
const onSecond: string[] = [];

async function call<T>(name: string, input: unknown): Promise<T> {
  const envelope = (await dispatch(handlers, name, input)) as Envelope<T>;
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

async function refused(name: string, input: unknown): Promise<HangarErrorData> {
  const envelope = await dispatch(handlers, name, input);
  if (envelope.ok) throw new Error(`${name} was accepted`);
  return envelope.error;
}

async function operation(name: string, input: unknown): Promise<OperationSummary> {
  const started = await call<OperationSummary>(name, input);
  expect(started.state).toBe('running');
  return watchOperation(handlers, started.id, { timeoutMs: 30_000 });
}

const checkUpdates = () => call<ImageUpdates>('images.checkUpdates', { remote: 'local', project });

/** What a check says about one image: other tests' images are in the project too. */
async function checkImage(fingerprint: string) {
  const checked = await checkUpdates();
  const about = (entry: { fingerprint: string }) => entry.fingerprint === fingerprint;
  return { updates: checked.updates.filter(about), unknown: checked.unknown.filter(about) };
}

/** A tiny unified image whose content, and so fingerprint, is this file's alone. */
async function imageFile(name: string): Promise<{ path: string; fingerprint: string }> {
  const unique = `${name} ${process.pid} ${randomBytes(8).toString('hex')}`;
  const data = tar([
    {
      path: 'metadata.yaml',
      content: `architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: ${unique}\n`,
    },
    { path: 'rootfs' },
    { path: 'rootfs/id', content: unique },
  ]);
  const path = join(dir, `${name}.tar`);
  await writeFile(path, data);
  return { path, fingerprint: createHash('sha256').update(data).digest('hex') };
}

/** A public image on the second daemon, named by `alias` when given. */
async function publicOnSecond(name: string, alias?: string): Promise<string> {
  const file = await imageFile(name);
  await lxcRemote(
    'image',
    'import',
    file.path,
    '--public',
    ...(alias === undefined ? [] : ['--alias', alias]),
  );
  onSecond.push(file.fingerprint);
  return file.fingerprint;
}

/** Points an alias of the second daemon at another image, as `lxc image alias` does. */
async function moveAlias(alias: string, fingerprint: string): Promise<void> {
  await lxcRemote('image', 'alias', 'delete', alias);
  await lxcRemote('image', 'alias', 'create', alias, fingerprint);
}

async function copyWithAutoUpdate(remote: string, image: string, aliases: string[]) {
  const done = await operation('images.copy', {
    source: { remote, image },
    target: { remote: 'local', project },
    aliases,
    copyAliases: false,
    autoUpdate: true,
    public: false,
  });
  expect(done.error).toBeUndefined();
  return done;
}

const getLocal = (fingerprint: string) =>
  call<LxdImage>('images.get', { remote: 'local', project, fingerprint });
const localFingerprints = async () =>
  (await call<LxdImage[]>('images.list', { remote: 'local', project })).map(
    (image) => image.fingerprint,
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-updates-'));
  await lxcLocal('project', 'create', project, '-c', 'features.profiles=false');
  const hub = new EventHub();
  remotes = await RemoteRegistry.open({
    env: { LXD_DIR: sandbox.localDir, HOME: dir },
    dataDir: join(dir, 'data'),
    secrets: plaintextCodec('test'),
    hub,
    // The tests' simplestreams server, which the daemons trust too.
    extraCa: sandbox.trustedServer.certificate,
  });
  operations = new Operations(hub);
  uploads = new StagedUploads(join(dir, 'uploads'));
  // Composed as hangar.ts does, with failures never reused and a short time limit.
  checks = updateHandlers(remotes, operations, { cacheMs: 0, timeoutMs: TIMEOUT_MS });
  const composed: Partial<Handlers> = {
    ...remoteHandlers(remotes),
    ...imageHandlers(remotes, operations, uploads, new ImageLists({ remotes, hub })),
    ...operationHandlers(remotes, operations),
    ...checks.handlers,
  };
  handlers = composed as Handlers;
  await addTrustedRemote(handlers, { name: 'second', lxdDir: sandbox.remoteDir });
});

afterAll(async () => {
  await checks.close();
  await operations.close();
  await uploads.close();
  await remotes.close();
  await deleteProject(sandbox.localDir, project);
  for (const fingerprint of onSecond)
    await lxcRemote('image', 'delete', fingerprint).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('an image copied from an LXD remote with auto-update', () => {
  const alias = `upd/${process.pid}`;

  it('has no update until the alias moves, then refreshes to the new image', async () => {
    const a = await publicOnSecond('a', alias);
    const copied = await copyWithAutoUpdate('second', alias, ['mine']);
    expect(copied.result?.fingerprint).toBe(a);
    expect((await getLocal(a)).update_source).toMatchObject({ protocol: 'lxd', alias });
    expect(await checkUpdates()).toMatchObject({ updates: [], unknown: [] });

    const b = await publicOnSecond('b');
    await moveAlias(alias, b);
    const found = await checkUpdates();
    expect(found.updates).toEqual([{ fingerprint: a, latest: b }]);
    expect(found.unknown).toEqual([]);
    expect(Date.parse(found.checkedAt)).not.toBeNaN();

    const refreshed = await operation('images.refresh', {
      remote: 'local',
      project,
      fingerprint: a.slice(0, 12),
    });
    expect(refreshed).toMatchObject({
      state: 'succeeded',
      kind: 'refresh',
      title: `Refresh local:mine (project ${project})`,
      command: `lxc image refresh local:${a.slice(0, 12)} --project ${project}`,
      mayCancel: false,
      result: { remote: 'local', project, fingerprint: b },
    });
    expect(refreshed.result?.message).toMatch(/was refreshed/);
    // LXD made B, moved the alias to it and deleted A.
    const fingerprints = await localFingerprints();
    expect(fingerprints).toContain(b);
    expect(fingerprints).not.toContain(a);
    expect((await getLocal(b)).aliases.map((entry) => entry.name)).toEqual(['mine']);
    expect(await checkUpdates()).toMatchObject({ updates: [], unknown: [] });

    const again = await operation('images.refresh', { remote: 'local', project, fingerprint: b });
    expect(again).toMatchObject({ state: 'succeeded', result: { fingerprint: b } });
    expect(again.result?.message).toMatch(/already up to date/);
  }, 60_000);

  it('never finds an update for an image copied by fingerprint', async () => {
    // lxc copies a private image by fingerprint (with a secret): LXD records the fingerprint as the alias.
    const split = sandbox.fixtures.find((fixture) => fixture.key === 'split');
    if (split === undefined) throw new Error('no split fixture');
    await copyWithAutoUpdate('second', 'fixture/split', []);
    expect(split.public).toBe(false);
    expect((await getLocal(split.fingerprint)).update_source?.alias).toBe(split.fingerprint);
    expect(await checkImage(split.fingerprint)).toEqual({ updates: [], unknown: [] });
  });

  it('refuses to refresh an image that has no source', async () => {
    const refreshes = async () =>
      (await call<OperationSummary[]>('operations.list', {})).filter(
        (entry) => entry.kind === 'refresh',
      ).length;
    const before = await refreshes();
    const file = await imageFile('sourceless');
    await lxcLocal('image', 'import', file.path, '--project', project);
    const error = await refused('images.refresh', {
      remote: 'local',
      project,
      fingerprint: file.fingerprint,
    });
    expect(error).toMatchObject({ code: 'invalid-input' });
    expect(error.message).toBe(
      `local:${file.fingerprint.slice(0, 12)} was not copied from a remote with auto-update: there is nothing to refresh from.`,
    );
    // Refused before any operation started.
    expect(await refreshes()).toBe(before);
  });

  it('asks a server Hangar does not know as a public client, and says when it is down', async () => {
    const relayAlias = `upd-relay/${process.pid}`;
    const [host = '', port = ''] = sandbox.remoteHttps.split(':');
    const proxy = await startThrottleProxy({ host, port: Number(port) });
    let blackHole: ReturnType<typeof createServer> | undefined;
    const held = new Set<Socket>();
    try {
      await addTrustedRemote(handlers, {
        name: 'relay',
        lxdDir: sandbox.remoteDir,
        addr: proxy.address,
      });
      const c = await publicOnSecond('c', relayAlias);
      await copyWithAutoUpdate('relay', relayAlias, []);
      expect((await getLocal(c)).update_source?.server).toBe(`https://${proxy.address}`);
      // The address is no remote of Hangar's any more: only public images can be seen there.
      await call('remotes.remove', { remote: 'relay' });
      expect(
        (await call<RemoteSummary[]>('remotes.list', {})).some((r) =>
          r.addr.includes(proxy.address),
        ),
      ).toBe(false);
      expect(await checkImage(c)).toEqual({ updates: [], unknown: [] });

      const d = await publicOnSecond('d');
      await moveAlias(relayAlias, d);
      expect(await checkImage(c)).toEqual({
        updates: [{ fingerprint: c, latest: d }],
        unknown: [],
      });

      // No alias to follow: the refreshed image is the one from the same source.
      expect((await getLocal(c)).aliases).toEqual([]);
      const refreshed = await operation('images.refresh', {
        remote: 'local',
        project,
        fingerprint: c,
      });
      expect(refreshed).toMatchObject({
        state: 'succeeded',
        title: `Refresh local:${c.slice(0, 12)} (project ${project})`,
        result: { fingerprint: d },
      });
      expect(await checkImage(d)).toEqual({ updates: [], unknown: [] });

      // Nothing listens there any more.
      await proxy.close();
      const refusedAt = Date.now();
      const down = await checkImage(d);
      expect(Date.now() - refusedAt).toBeLessThan(TIMEOUT_MS + 1000);
      expect(down.updates).toEqual([]);
      expect(down.unknown).toEqual([
        { fingerprint: d, reason: expect.stringMatching(/connection refused/) as unknown },
      ]);

      // Something listens but never answers: the time limit ends the wait.
      blackHole = createServer((socket) => held.add(socket));
      const hole = blackHole;
      await new Promise<void>((resolve) =>
        hole.listen(Number(proxy.address.split(':')[1]), '127.0.0.1', resolve),
      );
      const silentAt = Date.now();
      const silent = await checkImage(d);
      const waited = Date.now() - silentAt;
      expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
      expect(waited).toBeLessThan(TIMEOUT_MS + 1000);
      expect(silent.unknown).toEqual([
        {
          fingerprint: d,
          reason: `https://${proxy.address} did not answer within ${TIMEOUT_MS / 1000} s.`,
        },
      ]);
      expect(silent.updates).toEqual([]);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) =>
        blackHole ? blackHole.close(() => resolve()) : resolve(),
      );
      await proxy.close().catch(() => undefined);
      await call('remotes.remove', { remote: 'relay' }).catch(() => undefined);
    }
  }, 60_000);
});

describe('an image copied from a simplestreams server with auto-update', () => {
  it('follows the alias in the catalog, reuses an answer for a while, and says when the server is offline', async () => {
    const generated = generateCatalog({ products: 2, versionsPerProduct: 2, vmEvery: 0 });
    const fixture = generated.fixture;
    if (fixture === undefined) throw new Error('the generator made no real image');
    const server = await startSimplestreamsServer({
      files: generated.files,
      identity: sandbox.trustedServer,
    });
    let sharedChecks: ReturnType<typeof updateHandlers> | undefined;
    try {
      await call('remotes.add', { protocol: 'simplestreams', name: 'streams', addr: server.url });
      await copyWithAutoUpdate('streams', 'hangar/fixture', []);
      const split = fixture.split.fingerprint;
      expect((await getLocal(split)).update_source).toMatchObject({
        protocol: 'simplestreams',
        alias: 'hangar/fixture',
      });
      expect(await checkImage(split)).toEqual({ updates: [], unknown: [] });

      // The alias moves to the unified image of the catalog.
      const path = 'streams/v1/images.json';
      const products = JSON.parse(String(generated.files.get(path))) as {
        products: Record<string, { aliases: string }>;
      };
      const split_ = products.products['hangar:fixture:amd64:default'];
      const unified = products.products['hangar:fixture-unified:amd64:default'];
      if (split_ === undefined || unified === undefined) throw new Error('no fixture products');
      split_.aliases = '';
      unified.aliases = 'hangar/fixture-unified,hangar/fixture';
      server.setFile(path, JSON.stringify(products));
      expect(await checkImage(split)).toEqual({
        updates: [{ fingerprint: split, latest: fixture.unified.fingerprint }],
        unknown: [],
      });

      // Two checks at once (the default options): one question to the server for both.
      sharedChecks = updateHandlers(remotes, operations);
      const shared = sharedChecks.handlers['images.checkUpdates'];
      const before = server.count('streams/v1/index.json');
      const [first, second] = await Promise.all([
        shared({ remote: 'local', project }),
        shared({ remote: 'local', project }),
      ]);
      expect(server.count('streams/v1/index.json') - before).toBe(1);
      expect(second.updates).toEqual(first.updates);

      await server.goOffline();
      expect(await checkImage(split)).toEqual({
        updates: [],
        unknown: [
          { fingerprint: split, reason: expect.stringMatching(/connection refused/i) as unknown },
        ],
      });
    } finally {
      await sharedChecks?.close();
      await call('remotes.remove', { remote: 'streams' }).catch(() => undefined);
      await server.close();
    }
  }, 60_000);
});
