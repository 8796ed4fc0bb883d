/**
 * The Instances view and `lxc publish` against the sandbox daemons.
 * Instances can be created here but not started: a stopped container and a
 * snapshot are published (compression and properties checked with lxc), in
 * place with aliases and public, and to the second daemon (published in
 * place, copied, the local one removed, as lxc does); a bad compression and
 * a running instance without "force" are refused.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { InstanceSummary, OperationSummary } from '../../shared/contract.js';
import type { Envelope } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { createInstance, deleteProject } from '../../scripts/sandbox/projects.js';
import { addTrustedRemote } from '../../scripts/sandbox/trusted-remote.js';
import { dispatch } from '../dispatch.js';
import { createHangar, type Hangar } from '../hangar.js';
import { watchOperation } from '../operations/watch.js';
import { plaintextCodec } from '../remotes/identity.js';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const project = `publish-${process.pid}`;
/** Another project of the same daemon, to publish into. */
const other = `publish-${process.pid}-b`;
const lxcLocal = async (...args: string[]) =>
  (await run('lxc', args, { env: { ...process.env, LXD_DIR: sandbox.localDir } })).stdout;
const lxcRemote = async (...args: string[]) =>
  (await run('lxc', args, { env: { ...process.env, LXD_DIR: sandbox.remoteDir } })).stdout;
const inProject = (...args: string[]) => lxcLocal(...args, '--project', project);
const query = async <T>(path: string): Promise<T> => JSON.parse(await lxcLocal('query', path)) as T;

let hangar: Hangar;
let dir: string;
let base: string;
/** Images this file put on the second daemon. */
const onRemote: string[] = [];

async function call<T>(name: string, input: unknown): Promise<T> {
  const envelope = (await dispatch(hangar.handlers, name, input)) as Envelope<T>;
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

async function publish(input: Record<string, unknown>): Promise<OperationSummary> {
  const started = await call<OperationSummary>('instances.publish', {
    target: { remote: 'local', project },
    aliases: [],
    public: false,
    properties: {},
    force: false,
    ...input,
  });
  expect(started).toMatchObject({ kind: 'publish', state: 'running' });
  return watchOperation(hangar.handlers, started.id, { timeoutMs: 60_000 });
}

/** The compression of an image as LXD stored it, from its exported file's magic bytes. */
async function storedCompression(fingerprint: string): Promise<string> {
  const out = await mkdtemp(join(dir, 'export-'));
  await inProject('image', 'export', fingerprint, `${out}/`);
  const [file] = await readdir(out);
  if (file === undefined) throw new Error('nothing exported');
  const handle = await open(join(out, file), 'r');
  const { buffer } = await handle.read(Buffer.alloc(6), 0, 6, 0);
  await handle.close();
  if (buffer.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (buffer[0] === 0x1f && buffer[1] === 0x8b) return 'gzip';
  if (buffer.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return `unknown (${file})`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-publish-'));
  await lxcLocal('project', 'create', project, '-c', 'features.profiles=false');
  await lxcLocal('project', 'create', other, '-c', 'features.profiles=false');
  await lxcLocal('image', 'copy', 'local:fixture/unified', 'local:', '--target-project', project);
  base = (await inProject('image', 'list', '-c', 'F', '--format', 'csv')).trim();
  await createInstance(sandbox.localDir, project, 'c1', base);
  await inProject('snapshot', 'c1', 'snap0');
  hangar = await createHangar({
    env: { LXD_DIR: sandbox.localDir, HOME: dir },
    dataDir: join(dir, 'data'),
    secrets: plaintextCodec('test'),
  });
  await addTrustedRemote(hangar.handlers, { name: 'second', lxdDir: sandbox.remoteDir });
});

afterAll(async () => {
  await hangar.close();
  for (const fingerprint of onRemote)
    await lxcRemote('image', 'delete', fingerprint).catch(() => undefined);
  await deleteProject(sandbox.localDir, project);
  await deleteProject(sandbox.localDir, other);
  await rm(dir, { recursive: true, force: true });
});

describe('instances.list', () => {
  it('lists each instance with its type, status, base image and snapshots', async () => {
    const instances = await call<InstanceSummary[]>('instances.list', {
      remote: 'local',
      project,
    });
    const c1 = instances.find((instance) => instance.name === 'c1');
    expect(c1).toMatchObject({
      name: 'c1',
      type: 'container',
      status: 'Stopped',
      ephemeral: false,
      baseImage: base,
      snapshots: [{ name: 'snap0' }],
    });
    expect(Date.parse(c1?.created_at ?? '')).toBeGreaterThan(0);
    expect(Date.parse(c1?.snapshots[0]?.created_at ?? '')).toBeGreaterThan(0);
    expect(c1?.config['volatile.base_image']).toBe(base);
  });

  it('refuses a simplestreams remote', async () => {
    await expect(call('instances.list', { remote: 'images' })).rejects.toThrow(/simplestreams/);
  });
});

describe('instances.publish', () => {
  it('publishes a stopped container with xz and properties', async () => {
    const done = await publish({
      source: { remote: 'local', project, instance: 'c1' },
      compression: 'xz',
      properties: { os: 'Debian', description: 'published c1' },
    });
    expect(done).toMatchObject({
      state: 'succeeded',
      title: `Publish local:c1 as an image on local (project ${project})`,
      command: `lxc publish local:c1 local: --compression xz --project ${project} os=Debian 'description=published c1'`,
      result: { remote: 'local', project },
    });
    const fingerprint = done.result?.fingerprint ?? '';
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const image = await query<LxdImage>(`/1.0/images/${fingerprint}?project=${project}`);
    expect(image.properties).toEqual({ os: 'Debian', description: 'published c1' });
    expect(image.public).toBe(false);
    expect(image.type).toBe('container');
    expect(await inProject('image', 'info', fingerprint)).toMatch(
      /^ {4}description: published c1$/m,
    );
    expect(await storedCompression(fingerprint)).toBe('xz');
  });

  it('publishes a snapshot with aliases, public and an expiry', async () => {
    const done = await publish({
      source: { remote: 'local', project, instance: 'c1', snapshot: 'snap0' },
      aliases: ['published/snap', 'published/other'],
      public: true,
      expiresAt: '2031-01-02T03:04:05Z',
      properties: { os: 'Snapshot' },
    });
    expect(done.state).toBe('succeeded');
    expect(done.command).toBe(
      `lxc publish local:c1/snap0 local: --alias published/snap --alias published/other --public --expire 2031-01-02T03:04:05Z --project ${project} os=Snapshot`,
    );
    const fingerprint = done.result?.fingerprint ?? '';
    const image = await query<LxdImage>(`/1.0/images/${fingerprint}?project=${project}`);
    expect(image.aliases.map((alias) => alias.name).sort()).toEqual([
      'published/other',
      'published/snap',
    ]);
    expect(image.public).toBe(true);
    expect(image.expires_at).toMatch(/^2031-01-02T03:04:05/);
    expect(image.properties.os).toBe('Snapshot');
    expect(await storedCompression(fingerprint)).toBe('gzip');
    // An alias that exists is moved to the new image, as lxc does.
    const again = await publish({
      source: { remote: 'local', project, instance: 'c1', snapshot: 'snap0' },
      aliases: ['published/snap'],
      compression: 'zstd',
    });
    expect(again.state).toBe('succeeded');
    const moved = await query<{ target: string }>(
      `/1.0/images/aliases/published%2Fsnap?project=${project}`,
    );
    expect(moved.target).toBe(again.result?.fingerprint);
    expect(await storedCompression(moved.target)).toBe('zstd');
  });

  it('publishes to another remote: copied there, nothing left behind', async () => {
    const before = await inProject('image', 'list', '-c', 'F', '--format', 'csv');
    const done = await publish({
      source: { remote: 'local', project, instance: 'c1', snapshot: 'snap0' },
      target: { remote: 'second' },
      aliases: [`published/${process.pid}`],
      properties: { os: 'Elsewhere' },
    });
    expect(done).toMatchObject({ state: 'succeeded', result: { remote: 'second' } });
    const fingerprint = done.result?.fingerprint ?? '';
    onRemote.push(fingerprint);
    const image = JSON.parse(await lxcRemote('query', `/1.0/images/${fingerprint}`)) as LxdImage;
    expect(image.aliases.map((alias) => alias.name)).toEqual([`published/${process.pid}`]);
    expect(image.properties.os).toBe('Elsewhere');
    expect(await inProject('image', 'list', '-c', 'F', '--format', 'csv')).toBe(before);
  });

  it('publishes into another project of the same remote', async () => {
    const before = await inProject('image', 'list', '-c', 'F', '--format', 'csv');
    const done = await publish({
      source: { remote: 'local', project, instance: 'c1' },
      target: { remote: 'local', project: other },
      aliases: ['moved/here'],
      compression: 'none',
    });
    expect(done).toMatchObject({ state: 'succeeded', result: { remote: 'local', project: other } });
    expect(done.command).toBe(
      `lxc publish local:c1 local: --alias moved/here --compression none --project ${project}  # then moved to project ${other}, as lxc image copy --target-project does`,
    );
    const alias = await query<{ target: string }>(
      `/1.0/images/aliases/moved%2Fhere?project=${other}`,
    );
    expect(alias.target).toBe(done.result?.fingerprint);
    expect(await inProject('image', 'list', '-c', 'F', '--format', 'csv')).toBe(before);
  });

  it('refuses a bad compression before LXD, and LXD refuses a missing instance', async () => {
    const refused = await dispatch(hangar.handlers, 'instances.publish', {
      source: { remote: 'local', project, instance: 'c1' },
      target: { remote: 'local', project },
      aliases: [],
      public: false,
      properties: {},
      compression: 'rar',
      force: false,
    });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe('invalid-input');
    const missing = await publish({ source: { remote: 'local', project, instance: 'nope' } });
    expect(missing.state).toBe('failed');
    expect(missing.error?.message).toMatch(/not found/i);
  });
});
