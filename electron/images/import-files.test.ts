/**
 * Importing files into a real LXD: every good kind of image, the bad-image
 * corpus (each refused with its error, nothing left in LXD), a duplicate,
 * and the daemon killed in the middle of an upload.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { OperationSummary } from '../../shared/contract.js';
import type { Envelope } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import {
  rawTar,
  writeBadImages,
  writeGoodImages,
  type BadImage,
  type GoodImage,
} from '../../scripts/image-corpus/bad-images.js';
import { startDaemon } from '../../scripts/sandbox/daemon.js';
import { deleteProject } from '../../scripts/sandbox/projects.js';
import { dispatch } from '../dispatch.js';
import { createHangar, type Hangar } from '../hangar.js';
import { watchOperation } from '../operations/watch.js';
import { plaintextCodec } from '../remotes/identity.js';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const project = `imports-${process.pid}`;
const lxcLocal = async (...args: string[]) =>
  (await run('lxc', args, { env: { ...process.env, LXD_DIR: sandbox.localDir } })).stdout;

let dir: string;
let hangar: Hangar;
let bad: BadImage[];
let good: GoodImage[];

async function call<T>(target: Hangar, name: string, input: unknown): Promise<T> {
  const envelope = (await dispatch(target.handlers, name, input)) as Envelope<T>;
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

const settle = (target: Hangar, started: OperationSummary) =>
  watchOperation(target.handlers, started.id, { timeoutMs: 30_000 });

const importFiles = async (files: string[], extra: Record<string, unknown> = {}) =>
  settle(
    hangar,
    await call<OperationSummary>(hangar, 'images.importFiles', {
      remote: 'local',
      project,
      files: files.map((path) => ({ path })),
      aliases: [],
      public: false,
      properties: {},
      ...extra,
    }),
  );

const fingerprints = async () =>
  (await call<LxdImage[]>(hangar, 'images.list', { remote: 'local', project }))
    .map((image) => image.fingerprint)
    .sort();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-imports-'));
  bad = await writeBadImages(join(dir, 'bad'));
  good = await writeGoodImages(join(dir, 'good'));
  await lxcLocal('project', 'create', project, '-c', 'features.profiles=false');
  hangar = await createHangar({
    env: { LXD_DIR: sandbox.localDir, HOME: dir },
    dataDir: join(dir, 'data'),
    secrets: plaintextCodec('test'),
  });
});

afterAll(async () => {
  await hangar.close();
  await deleteProject(sandbox.localDir, project);
  await rm(dir, { recursive: true, force: true });
});

describe('importing files', () => {
  it('imports unified and split images of every compression, with aliases, properties and public', async () => {
    for (const image of good) {
      const done = await importFiles(image.files, {
        aliases: [`good/${image.name}`],
        public: image.name === 'unified.tar.gz',
        properties: { 'user.origin': 'hangar test', os: 'Test' },
      });
      expect(done.error, image.name).toBeUndefined();
      expect(done.result).toEqual({ remote: 'local', project, fingerprint: image.fingerprint });
      const stored = await call<LxdImage>(hangar, 'images.get', {
        remote: 'local',
        project,
        fingerprint: image.fingerprint,
      });
      expect(stored.aliases.map((alias) => alias.name)).toEqual([`good/${image.name}`]);
      expect(stored.properties).toMatchObject({ 'user.origin': 'hangar test', os: 'Test' });
      expect(stored.public).toBe(image.name === 'unified.tar.gz');
    }
    // Two files given in either order: the one with metadata.yaml is the metadata.
    const split = good.find((image) => image.name === 'split-xz-gz');
    const again = await importFiles([...(split?.files ?? [])].reverse());
    expect(again).toMatchObject({
      state: 'failed',
      error: { code: 'conflict', message: expect.stringMatching(/already on local/) as unknown },
      result: { remote: 'local', project, fingerprint: split?.fingerprint },
    });
  });

  it('refuses every file of the bad-image corpus with its own error and leaves nothing in LXD', async () => {
    const before = await fingerprints();
    for (const image of bad) {
      const done = await importFiles(image.files);
      expect(done.state, image.name).toBe('failed');
      expect(done.error?.message, image.name).toMatch(image.expected);
    }
    expect(await fingerprints()).toEqual(before);
  }, 60_000);
});

describe('a split image whose metadata tarball is larger than its rootfs', () => {
  it('imports in either order, the metadata decided by content and listed first in the command', async () => {
    const fat = good.find((image) => image.name === 'split-fat-metadata');
    if (fat === undefined) throw new Error('corpus image missing');
    const [metadata = '', rootfs = ''] = fat.files;
    expect((await stat(metadata)).size).toBeGreaterThan((await stat(rootfs)).size);
    for (const files of [
      [rootfs, metadata],
      [metadata, rootfs],
    ]) {
      await lxcLocal('image', 'delete', fat.fingerprint, '--project', project).catch(() => '');
      const done = await importFiles(files);
      expect(done.error).toBeUndefined();
      expect(done).toMatchObject({
        state: 'succeeded',
        result: { remote: 'local', project, fingerprint: fat.fingerprint },
        command: `lxc image import ${metadata} ${rootfs} local: --project ${project}`,
      });
      const stored = JSON.parse(
        await lxcLocal('query', `/1.0/images/${fat.fingerprint}?project=${project}`),
      ) as LxdImage;
      expect(stored.fingerprint).toBe(fat.fingerprint);
    }
  });
});

describe('file names outside Latin-1', () => {
  it('are sent as lxc sends them (UTF-8 bytes), and LXD stores the real name', async () => {
    for (const name of ['образ-镜像.tar.gz', 'café ünïcode.tar.gz']) {
      const file = join(dir, name);
      const tarball = gzipSync(
        rawTar([
          {
            path: 'metadata.yaml',
            content: `architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: ${randomBytes(8).toString('hex')}\n`,
          },
          { path: 'rootfs/', type: '5' },
          { path: 'rootfs/hello', content: 'hi\n' },
        ]),
      );
      await writeFile(file, tarball);
      const fingerprint = createHash('sha256').update(tarball).digest('hex');
      const done = await importFiles([file]);
      expect(done.error, name).toBeUndefined();
      expect(done.result, name).toEqual({ remote: 'local', project, fingerprint });
      // What lxc shows (`lxc image info` has no file name; the API has it).
      const stored = JSON.parse(
        await lxcLocal('query', `/1.0/images/${fingerprint}?project=${project}`),
      ) as LxdImage;
      expect(stored.filename, name).toBe(name);
      const seen = await call<LxdImage>(hangar, 'images.get', {
        remote: 'local',
        project,
        fingerprint,
      });
      expect(seen.filename, name).toBe(name);
    }
  });
});

describe('a daemon killed during an import', () => {
  it('fails within seconds with a clear error, and leaves no image after the restart', async () => {
    const daemonDir = join(dir, 'doomed');
    const daemon = await startDaemon(daemonDir);
    const doomed = await createHangar({
      env: { LXD_DIR: daemonDir, HOME: dir },
      dataDir: join(dir, 'doomed-data'),
      secrets: plaintextCodec('test'),
    });
    try {
      const file = join(dir, 'big.tar');
      await writeFile(
        file,
        rawTar([
          { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1700000000\n' },
          { path: 'rootfs/', type: '5' },
          { path: 'rootfs/blob', content: randomBytes(512 * 1024 * 1024) },
        ]),
      );
      const started = await call<OperationSummary>(doomed, 'images.importFiles', {
        remote: 'local',
        files: [{ path: file }],
        aliases: [],
        public: false,
        properties: {},
      });
      await watchOperation(doomed.handlers, started.id, {
        reached: (current) => (current.progress?.processed ?? 0) > 32 * 1024 * 1024,
        timeoutMs: 10_000,
      });
      await daemon.kill();
      const killedAt = Date.now();
      const ended = await settle(doomed, started);
      expect(Date.now() - killedAt).toBeLessThan(5000);
      expect(ended).toMatchObject({ state: 'failed', error: { code: 'lxd-unreachable' } });
      expect(ended.error?.message).toMatch(/Cannot reach LXD at unix socket/);
      await startDaemon(daemonDir);
      expect((await daemon.lxc(['image', 'list', '--format', 'csv'])).trim()).toBe('');
    } finally {
      await doomed.close();
      await daemon.stop({ removeFiles: true });
    }
  }, 120_000);
});
