/**
 * "Build image" against the sandbox daemons: a small root filesystem folder
 * (files, a symlink inside, an absolute symlink, a template) packed unified
 * gzip and split xz, imported into a project of its own; LXD shows the
 * properties from the form, the fingerprint is the files' sha256, and an
 * instance is created from it. Bad input (an escaping symlink, a FIFO, an
 * empty folder, a template path with "..", an unknown architecture) is
 * reported and nothing is packed; the web bridge refuses folder paths.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BuildCheck, OperationSummary } from '../../shared/contract.js';
import type { Envelope } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { createInstance, deleteProject } from '../../scripts/sandbox/projects.js';
import { dispatch } from '../dispatch.js';
import { createHangar, type Hangar } from '../hangar.js';
import { watchOperation } from '../operations/watch.js';
import { plaintextCodec } from '../remotes/identity.js';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const project = `build-${process.pid}`;
const lxcLocal = async (...args: string[]) =>
  (await run('lxc', args, { env: { ...process.env, LXD_DIR: sandbox.localDir } })).stdout;

let hangar: Hangar;
let dir: string;
let rootfs: string;
let architecture: string;

async function call<T>(name: string, input: unknown, transport: 'ipc' | 'web' = 'ipc'): Promise<T> {
  const envelope = (await dispatch(hangar.handlers, name, input, transport)) as Envelope<T>;
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

const metadata = () => ({
  architecture,
  creationDate: Math.floor(Date.now() / 1000),
  properties: { description: 'Built by Hangar', os: 'hangaros', release: '1' },
});
const templates = [
  {
    path: '/etc/hostname',
    when: ['create', 'copy'],
    createOnly: false,
    template: '{{ container.name }}\n',
    properties: { note: 'yes' },
  },
];

async function pack(input: Record<string, unknown>): Promise<OperationSummary> {
  const started = await call<OperationSummary>('build.pack', {
    rootfs,
    metadata: metadata(),
    templates,
    ...input,
  });
  expect(started).toMatchObject({ kind: 'build', state: 'running' });
  return watchOperation(hangar.handlers, started.id, { timeoutMs: 60_000 });
}

const sha256 = async (...files: string[]) => {
  const hash = createHash('sha256');
  for (const file of files) hash.update(await readFile(file));
  return hash.digest('hex');
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-build-'));
  rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await mkdir(join(rootfs, 'bin'));
  await mkdir(join(rootfs, 'var', 'empty'), { recursive: true });
  await writeFile(join(rootfs, 'etc', 'hostname'), 'template-me\n');
  await writeFile(join(rootfs, 'etc', 'os-release'), 'NAME=hangaros\n');
  await writeFile(join(rootfs, 'bin', 'tool'), '#!/bin/sh\necho hi\n');
  await chmod(join(rootfs, 'bin', 'tool'), 0o755);
  await symlink('../etc/os-release', join(rootfs, 'bin', 'release'));
  await symlink('/bin/tool', join(rootfs, 'bin', 'absolute'));
  await lxcLocal('project', 'create', project, '-c', 'features.profiles=false');
  hangar = await createHangar({
    env: { LXD_DIR: sandbox.localDir, HOME: dir },
    dataDir: join(dir, 'data'),
    secrets: plaintextCodec('test'),
  });
  [architecture = 'x86_64'] = await call<string[]>('build.architectures', { remote: 'local' });
});

afterAll(async () => {
  await hangar.close();
  await deleteProject(sandbox.localDir, project);
  await rm(dir, { recursive: true, force: true });
});

describe('build.check', () => {
  it('writes metadata.yaml LXD accepts and finds nothing wrong with a good folder', async () => {
    const checked = await call<BuildCheck>('build.check', {
      rootfs,
      metadata: metadata(),
      templates,
    });
    expect(checked.problems).toEqual([]);
    expect(checked.yaml).toContain(`architecture: ${architecture}`);
    expect(checked.yaml).toContain('template: hostname.tpl');
    expect(checked.yaml).toContain("note: 'yes'");
  });

  it('reports each problem by name, and nothing is packed', async () => {
    const bad = join(dir, 'bad');
    await mkdir(join(bad, 'etc'), { recursive: true });
    await writeFile(join(bad, 'etc', 'ok'), 'ok');
    await symlink('../../../etc/passwd', join(bad, 'etc', 'escape'));
    await run('mkfifo', [join(bad, 'pipe')]);
    const checked = await call<BuildCheck>('build.check', {
      rootfs: bad,
      metadata: { ...metadata(), architecture: 'pdp11' },
      templates: [{ ...templates[0], path: '/etc/../../x' }],
    });
    const text = checked.problems.join('\n');
    expect(text).toMatch(/architecture LXD does not know: "pdp11"/);
    expect(text).toMatch(/Template path "\/etc\/..\/..\/x" has ".."/);
    expect(text).toMatch(/\/etc\/escape is a symlink to ..\/..\/..\/etc\/passwd, which leaves/);
    expect(text).toMatch(/\/pipe is a named pipe/);
    const out = join(dir, 'bad-out');
    await mkdir(out);
    await expect(
      call('build.pack', {
        rootfs: bad,
        metadata: metadata(),
        templates: [],
        layout: 'unified',
        compression: 'none',
        directory: out,
      }),
    ).rejects.toThrow(/Nothing was packed: .*named pipe/);
    expect(await readdir(out)).toEqual([]);
  });

  it('reports an empty folder', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const checked = await call<BuildCheck>('build.check', {
      rootfs: empty,
      metadata: metadata(),
      templates: [],
    });
    expect(checked.problems).toEqual([`${empty} is empty: an image needs a root filesystem.`]);
  });

  it('reports files and folders Hangar cannot read', async () => {
    // Root reads everything: as root, the check runs as an unprivileged user (nobody).
    const asRoot = process.getuid?.() === 0;
    const shared = await mkdtemp(join(tmpdir(), 'hangar-build-unreadable-'));
    try {
      const tree = join(shared, 'rootfs');
      await mkdir(join(tree, 'etc', 'private'), { recursive: true });
      await writeFile(join(tree, 'etc', 'shadow'), 'secret');
      await writeFile(join(tree, 'etc', 'hostname'), 'ok');
      await chmod(join(tree, 'etc', 'shadow'), 0o600);
      await chmod(join(tree, 'etc', 'private'), 0o700);
      for (const folder of [shared, tree, join(tree, 'etc')]) await chmod(folder, 0o755);
      // tsx's cache, writable by that user.
      const scratch = join(shared, 'tmp');
      await mkdir(scratch);
      await chmod(scratch, 0o777);
      const script = join(shared, 'check.mts');
      await writeFile(
        script,
        `import { rootfsProblems } from ${JSON.stringify(new URL('./build.ts', import.meta.url).pathname)};\n` +
          'console.log(JSON.stringify(await rootfsProblems(process.argv[2])));\n',
      );
      const problems = asRoot
        ? (JSON.parse(
            (
              await run(
                'setpriv',
                [
                  '--reuid=65534',
                  '--regid=65534',
                  '--clear-groups',
                  process.execPath,
                  '--import',
                  'tsx',
                  script,
                  tree,
                ],
                { env: { ...process.env, HOME: scratch, TMPDIR: scratch } },
              )
            ).stdout,
          ) as string[])
        : (
            await call<BuildCheck>('build.check', {
              rootfs: tree,
              metadata: metadata(),
              templates: [],
            })
          ).problems;
      expect(problems).toEqual([
        '/etc/private cannot be read by Hangar (folder mode 700).',
        '/etc/shadow cannot be read by Hangar (file mode 600).',
      ]);
    } finally {
      await rm(shared, { recursive: true, force: true });
    }
  });

  it('in web mode refuses folder paths, not the metadata alone', async () => {
    await expect(
      call('build.check', { rootfs, metadata: metadata(), templates }, 'web'),
    ).rejects.toThrow(/needs the desktop app/);
    await expect(
      call(
        'build.pack',
        {
          rootfs,
          metadata: metadata(),
          templates,
          layout: 'unified',
          compression: 'none',
          importTo: { remote: 'local', project, aliases: [], public: false },
        },
        'web',
      ),
    ).rejects.toThrow(/needs the desktop app/);
    const checked = await call<BuildCheck>(
      'build.check',
      { metadata: metadata(), templates },
      'web',
    );
    expect(checked.problems).toEqual([]);
  });
});

describe('build.pack', () => {
  it('packs unified gzip into a folder and imports it; never overwrites', async () => {
    const out = join(dir, 'unified');
    await mkdir(out);
    const fixed = metadata();
    const done = await pack({
      metadata: fixed,
      layout: 'unified',
      compression: 'gzip',
      directory: out,
      importTo: { remote: 'local', project, aliases: ['built/unified'], public: false },
    });
    expect(done.state).toBe('succeeded');
    const fingerprint = done.result?.fingerprint ?? '';
    const [file = ''] = done.result?.files ?? [];
    expect(file).toBe(join(out, `${fingerprint}.tar.gz`));
    expect(await sha256(file)).toBe(fingerprint);
    const listing = (await run('tar', ['-tzvf', file])).stdout;
    expect(listing).toMatch(/metadata\.yaml/);
    expect(listing).toMatch(/templates\/hostname\.tpl/);
    expect(listing).toMatch(/rootfs\/bin\/release -> \.\.\/etc\/os-release/);
    const image = JSON.parse(
      await lxcLocal('query', `/1.0/images/${fingerprint}?project=${project}`),
    ) as LxdImage;
    expect(image.fingerprint).toBe(fingerprint);
    expect(image.properties).toMatchObject({ os: 'hangaros', release: '1' });

    // The same input again gives the same file name: refused, the file kept.
    const again = await call<OperationSummary>('build.pack', {
      rootfs,
      metadata: fixed,
      templates,
      layout: 'unified',
      compression: 'gzip',
      directory: out,
    });
    const ended = await watchOperation(hangar.handlers, again.id, { timeoutMs: 60_000 });
    expect(ended.state).toBe('failed');
    expect(ended.error?.message).toMatch(/already exists: Hangar does not overwrite it/);
    expect(await sha256(file)).toBe(fingerprint);
    expect((await readdir(out)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('packs split xz, imports it, and an instance is created from it', async () => {
    const out = join(dir, 'split');
    await mkdir(out);
    const done = await pack({
      layout: 'split',
      compression: 'xz',
      directory: out,
      importTo: { remote: 'local', project, aliases: [], public: false },
    });
    expect(done.state).toBe('succeeded');
    const fingerprint = done.result?.fingerprint ?? '';
    const [meta = '', root = ''] = done.result?.files ?? [];
    expect(meta).toBe(join(out, `meta-${fingerprint}.tar.xz`));
    expect(await sha256(meta, root)).toBe(fingerprint);
    const image = JSON.parse(
      await lxcLocal('query', `/1.0/images/${fingerprint}?project=${project}`),
    ) as LxdImage;
    expect(image.fingerprint).toBe(fingerprint);
    expect(image.properties).toMatchObject({ description: 'Built by Hangar', os: 'hangaros' });
    await createInstance(sandbox.localDir, project, 'b1', fingerprint);
    const instance = JSON.parse(
      await lxcLocal('query', `/1.0/instances/b1?project=${project}`),
    ) as { config: Record<string, string> };
    expect(instance.config['volatile.base_image']).toBe(fingerprint);
  });

  it('packs a rootfs tarball as the rootfs file of a split image, as it is; an instance is created from it', async () => {
    const tarball = join(dir, 'rootfs.tar.xz');
    await run('tar', ['-cJf', tarball, '-C', rootfs, '.']);
    const out = join(dir, 'from-tarball');
    await mkdir(out);
    const done = await pack({
      rootfs: tarball,
      layout: 'split',
      compression: 'gzip',
      directory: out,
      importTo: { remote: 'local', project, aliases: ['built/from-tarball'], public: false },
    });
    expect(done.error?.message).toBeUndefined();
    expect(done.state).toBe('succeeded');
    const fingerprint = done.result?.fingerprint ?? '';
    const [meta = '', root = ''] = done.result?.files ?? [];
    expect(meta).toBe(join(out, `meta-${fingerprint}.tar.gz`));
    expect(root).toBe(join(out, `${fingerprint}.tar.xz`));
    // The rootfs file is the tarball, byte for byte; the fingerprint is LXD's for the pair.
    expect(await sha256(root)).toBe(await sha256(tarball));
    expect(await sha256(meta, root)).toBe(fingerprint);
    const image = JSON.parse(
      await lxcLocal('query', `/1.0/images/${fingerprint}?project=${project}`),
    ) as LxdImage;
    expect(image.properties).toMatchObject({ os: 'hangaros' });
    await createInstance(sandbox.localDir, project, 't1', fingerprint);
  });

  it('packs a rootfs tarball unified: its members moved under rootfs/, long names and hard links too', async () => {
    // A tree with what a plain re-prefix would break: a name past ustar's 100 bytes, a hard
    // link (it names another member), a symlink (its target stays as it is).
    const tree = join(dir, 'tarball-tree');
    const deep = `usr/share/${'long-folder-name/'.repeat(6)}file-with-a-long-name.txt`;
    await mkdir(join(tree, deep, '..'), { recursive: true });
    await writeFile(join(tree, deep), 'deep');
    await mkdir(join(tree, 'etc'), { recursive: true });
    await writeFile(join(tree, 'etc', 'os-release'), 'NAME=hangaros\n');
    await run('ln', [join(tree, 'etc', 'os-release'), join(tree, 'etc', 'os-release.hard')]);
    await symlink('../etc/os-release', join(tree, 'etc', 'release-link'));
    // GNU's format (long names as 'L' records) and POSIX pax (long names as pax records), xz.
    const posix = join(dir, 'tree-posix.tar.xz');
    await run('tar', ['--format=posix', '-cJf', posix, '-C', tree, '.']);
    const fromPosix = await pack({
      rootfs: posix,
      layout: 'unified',
      compression: 'gzip',
      directory: await mkdtemp(join(dir, 'unified-posix-')),
    });
    expect(fromPosix.error?.message).toBeUndefined();
    const posixListing = (await run('tar', ['-tzf', fromPosix.result?.files?.[0] ?? ''])).stdout;
    expect(posixListing).toContain(`rootfs/${deep}`);
    expect(posixListing).toContain('rootfs/etc/os-release.hard');
    const tarball = join(dir, 'tree.tar.gz');
    await run('tar', ['--format=gnu', '-czf', tarball, '-C', tree, '.']);
    const out = join(dir, 'unified-from-tarball');
    await mkdir(out);
    const done = await pack({
      rootfs: tarball,
      layout: 'unified',
      compression: 'xz',
      directory: out,
      importTo: { remote: 'local', project, aliases: [], public: false },
    });
    expect(done.error?.message).toBeUndefined();
    const fingerprint = done.result?.fingerprint ?? '';
    const [file = ''] = done.result?.files ?? [];
    expect(file).toBe(join(out, `${fingerprint}.tar.xz`));
    expect(await sha256(file)).toBe(fingerprint);
    // What GNU tar (LXD's unpacker) reads: every member of the tarball, under rootfs/.
    const listed = (await run('tar', ['-tJf', file])).stdout.split('\n').filter(Boolean);
    const source = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
    expect(listed.filter((entry) => entry.startsWith('rootfs/'))).toEqual(
      source.map((entry) => `rootfs/${entry.replace(/^\.\/?/, '')}`),
    );
    expect(listed).toContain('metadata.yaml');
    const unpacked = join(dir, 'unpacked-unified');
    await mkdir(unpacked);
    await run('tar', ['-xJf', file, '-C', unpacked]);
    expect(await readFile(join(unpacked, 'rootfs', deep), 'utf8')).toBe('deep');
    const hard = await stat(join(unpacked, 'rootfs', 'etc', 'os-release.hard'));
    expect(hard.nlink).toBe(2);
    expect(await readlink(join(unpacked, 'rootfs', 'etc', 'release-link'))).toBe(
      '../etc/os-release',
    );
    // LXD imported it, and an instance is created from it.
    await createInstance(sandbox.localDir, project, 'u1', fingerprint);
  });

  it('refuses a squashfs for a unified image, and a tarball with a path leaving the root', async () => {
    const squashfs = join(dir, 'rootfs.squashfs');
    await writeFile(squashfs, Buffer.concat([Buffer.from('hsqs'), Buffer.alloc(1020)]));
    const unified = await call<BuildCheck>('build.check', {
      rootfs: squashfs,
      layout: 'unified',
      metadata: metadata(),
      templates,
    });
    expect(unified.problems).toEqual([
      'rootfs.squashfs is a squashfs filesystem: it can only be the rootfs file of a split image. Choose the split layout.',
    ]);
    const tarball = join(dir, 'rootfs-check.tar');
    await run('tar', ['-cf', tarball, '-C', rootfs, '.']);
    for (const layout of ['unified', 'split'])
      expect(
        (
          await call<BuildCheck>('build.check', {
            rootfs: tarball,
            layout,
            metadata: metadata(),
            templates,
          })
        ).problems,
      ).toEqual([]);
    // A member named ../escape: refused before anything is packed.
    const escaping = join(dir, 'escaping.tar');
    await run('tar', [
      '-cf',
      escaping,
      '-C',
      rootfs,
      '--transform',
      's,^\\./etc/hostname$,../escape,',
      './etc/hostname',
      './bin',
    ]);
    const refused = await call<BuildCheck>('build.check', {
      rootfs: escaping,
      layout: 'split',
      metadata: metadata(),
      templates,
    });
    expect(refused.problems).toHaveLength(1);
    expect(refused.problems[0]).toMatch(/escaping\.tar/);
    expect(refused.problems[0]).toMatch(/\.\./);
    const failed = await call<OperationSummary>('build.pack', {
      rootfs: escaping,
      metadata: metadata(),
      templates,
      layout: 'split',
      compression: 'gzip',
      directory: dir,
    }).catch((error: unknown) => error);
    expect(String(failed)).toMatch(/Nothing was packed/);
  });

  it('imports without an output folder (packed in a temporary one)', async () => {
    const done = await pack({
      metadata: { ...metadata(), properties: { os: 'hangaros', release: 'zstd' } },
      layout: 'unified',
      compression: 'zstd',
      importTo: { remote: 'local', project, aliases: [], public: false },
    });
    expect(done.state).toBe('succeeded');
    expect(done.result?.files).toBeUndefined();
    const image = JSON.parse(
      await lxcLocal('query', `/1.0/images/${done.result?.fingerprint ?? ''}?project=${project}`),
    ) as LxdImage;
    expect(image.properties).toMatchObject({ release: 'zstd' });
  });
});
