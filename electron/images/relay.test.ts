/**
 * Copying from an LXD that does not listen on the network (a daemon of its
 * own, reached over its unix socket only) to the second sandbox daemon:
 * Hangar relays the bytes, and the target ends up with the same image as a
 * pull would give it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { OperationSummary } from '../../shared/contract.js';
import type { Envelope } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { startDaemon, type SandboxDaemon } from '../../scripts/sandbox/daemon.js';
import { deleteProject } from '../../scripts/sandbox/projects.js';
import { tar } from '../../scripts/sandbox/tar.js';
import { dispatch } from '../dispatch.js';
import { createHangar, type Hangar } from '../hangar.js';
import { watchOperation } from '../operations/watch.js';
import { addTrustedRemote } from '../../scripts/sandbox/trusted-remote.js';
import { plaintextCodec } from '../remotes/identity.js';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const project = `relay-${process.pid}`;
const lxcRemote = async (...args: string[]) =>
  (await run('lxc', args, { env: { ...process.env, LXD_DIR: sandbox.remoteDir } })).stdout;

let dir: string;
let isolated: SandboxDaemon;
let hangar: Hangar;

async function call<T>(name: string, input: unknown): Promise<T> {
  const envelope = (await dispatch(hangar.handlers, name, input)) as Envelope<T>;
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

async function operation(name: string, input: unknown): Promise<OperationSummary> {
  const started = await call<OperationSummary>(name, input);
  return watchOperation(hangar.handlers, started.id, { timeoutMs: 60_000 });
}

/** The fingerprints in the test's project on the second daemon, one per line. */
const imagesOnSecond = () =>
  lxcRemote('image', 'list', '--project', project, '-c', 'F', '--format', 'csv');

const onSecond = async (fingerprint: string) =>
  JSON.parse(await lxcRemote('query', `/1.0/images/${fingerprint}?project=${project}`)) as LxdImage;

/** The source image an alias of the isolated daemon points at. */
const sourceImage = async (alias: string) => {
  const rows = await isolated.lxc(['image', 'list', '-c', 'lF', '--format', 'csv']);
  const fingerprint = rows
    .split('\n')
    .map((row) => row.split(','))
    .find(([name]) => name === alias)?.[1];
  return call<LxdImage>('images.get', { remote: 'local', fingerprint });
};

const rootfs = (id: string) => [
  { path: 'rootfs' },
  { path: 'rootfs/etc' },
  { path: 'rootfs/etc/hostname', content: `${id}\n` },
  { path: 'rootfs/filler', content: randomBytes(4 * 1024 * 1024) },
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-relay-'));
  isolated = await startDaemon(join(dir, 'lxd'));
  await isolated.lxc(['config', 'unset', 'core.https_address']);
  const metadata = `architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  os: Relayed\n  description: relayed image\n`;
  await writeFile(
    join(dir, 'unified.tar.gz'),
    gzipSync(tar([{ path: 'metadata.yaml', content: metadata }, ...rootfs('unified')])),
  );
  await writeFile(
    join(dir, 'meta.tar.gz'),
    gzipSync(tar([{ path: 'metadata.yaml', content: metadata }, { path: 'templates' }])),
  );
  await writeFile(join(dir, 'rootfs.tar.gz'), gzipSync(tar(rootfs('split'))));
  await isolated.lxc(['image', 'import', join(dir, 'unified.tar.gz'), '--alias', 'relay/unified']);
  await isolated.lxc([
    'image',
    'import',
    join(dir, 'meta.tar.gz'),
    join(dir, 'rootfs.tar.gz'),
    '--alias',
    'relay/split',
  ]);
  await isolated.lxc(['image', 'set-property', 'relay/split', 'user.note', 'set after import']);
  await lxcRemote('project', 'create', project, '-c', 'features.profiles=false');

  hangar = await createHangar({
    env: { LXD_DIR: isolated.dir, HOME: dir },
    dataDir: join(dir, 'data'),
    secrets: plaintextCodec('test'),
  });
  await addTrustedRemote(hangar.handlers, { name: 'second', lxdDir: sandbox.remoteDir });
}, 120_000);

afterAll(async () => {
  await hangar.close();
  await deleteProject(sandbox.remoteDir, project);
  await isolated.stop({ removeFiles: true });
  await rm(dir, { recursive: true, force: true });
});

describe('copy from a server that does not listen on the network', () => {
  it('relays unified and split images with their properties, public flag and aliases', async () => {
    for (const alias of ['relay/unified', 'relay/split']) {
      const source = await sourceImage(alias);
      const done = await operation('images.copy', {
        source: { remote: 'local', image: alias },
        target: { remote: 'second', project },
        aliases: [`copied/${alias}`],
        copyAliases: true,
        autoUpdate: false,
        public: true,
      });
      expect(done.error, alias).toBeUndefined();
      expect(done.result).toEqual({ remote: 'second', project, fingerprint: source.fingerprint });
      const stored = await onSecond(source.fingerprint);
      expect(stored.properties).toEqual(source.properties);
      expect(stored.public).toBe(true);
      expect(stored.aliases.map((entry) => entry.name).sort()).toEqual([`copied/${alias}`, alias]);
      expect(stored.size).toBe(source.size);
    }
    // The split image stays split: its metadata is a file of its own on the target.
    const split = await sourceImage('relay/split');
    const exported = join(dir, 'exported');
    await run('mkdir', ['-p', exported]);
    await lxcRemote('image', 'export', '--project', project, split.fingerprint, `${exported}/`);
    expect((await run('ls', [exported])).stdout.split('\n').filter(Boolean)).toHaveLength(2);
  }, 120_000);

  it('copies an image the target already has without sending it again', async () => {
    const source = await sourceImage('relay/unified');
    const imageUrl = `/1.0/images/${source.fingerprint}?project=${project}`;
    await lxcRemote('query', '-X', 'PATCH', imageUrl, '-d', '{"public": false}');
    const before = await onSecond(source.fingerprint);
    expect(before.public).toBe(false);
    const done = await operation('images.copy', {
      source: { remote: 'local', image: 'relay/unified' },
      target: { remote: 'second', project },
      aliases: ['again/unified'],
      copyAliases: false,
      autoUpdate: false,
      public: true,
    });
    expect(done.state).toBe('succeeded');
    // Not uploaded again (LXD would have refused a duplicate upload anyway); made public as
    // asked, as a pull does, and the alias is added.
    const after = await onSecond(source.fingerprint);
    expect(after.uploaded_at).toBe(before.uploaded_at);
    expect(after.public).toBe(true);
    expect(after.aliases.map((entry) => entry.name)).toContain('again/unified');
  });

  it('is cancelled mid-relay, leaving no image on the target', async () => {
    await writeFile(
      join(dir, 'big.tar'),
      tar([
        { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1700000000\n' },
        { path: 'rootfs' },
        { path: 'rootfs/blob', content: randomBytes(128 * 1024 * 1024) },
      ]),
    );
    await isolated.lxc(['image', 'import', join(dir, 'big.tar'), '--alias', 'relay/big']);
    await rm(join(dir, 'big.tar'));
    const big = await sourceImage('relay/big');
    const started = await call<OperationSummary>('images.copy', {
      source: { remote: 'local', image: 'relay/big' },
      target: { remote: 'second', project },
      aliases: [],
      copyAliases: false,
      autoUpdate: false,
      public: false,
    });
    await watchOperation(hangar.handlers, started.id, {
      reached: (current) => (current.progress?.processed ?? 0) > 4 * 1024 * 1024,
      timeoutMs: 20_000,
      intervalMs: 2,
    });
    await call('operations.cancel', { id: started.id });
    const ended = await watchOperation(hangar.handlers, started.id, { timeoutMs: 20_000 });
    expect(ended.state).toBe('cancelled');
    const images = await imagesOnSecond();
    expect(images).not.toContain(big.fingerprint);
  }, 60_000);

  it('says why auto-update and launch need the source on the network', async () => {
    const before = await imagesOnSecond();
    const updating = await operation('images.copy', {
      source: { remote: 'local', image: 'relay/split' },
      target: { remote: 'second' },
      aliases: [],
      copyAliases: false,
      autoUpdate: true,
      public: false,
    });
    expect(updating).toMatchObject({ state: 'failed', error: { code: 'invalid-input' } });
    expect(updating.error?.message).toBe(
      'local does not listen on the network, so another server cannot pull images from it to keep the copy on second up to date. On local, run: lxc config set core.https_address :8443',
    );
    const launching = await operation('instances.launch', {
      source: { remote: 'local', image: 'relay/unified' },
      target: { remote: 'second', project },
      vm: false,
      start: false,
      ephemeral: false,
    });
    expect(launching.error?.message).toMatch(
      /^local does not listen on the network, so another server cannot pull images from it to create an instance on second\./,
    );
    expect(await imagesOnSecond()).toBe(before);
  });
});
