/**
 * "Export as simplestreams" against the sandbox daemons: fixture images
 * (unified, split, several aliases) written as a tree, served over loopback
 * HTTPS; the sandbox LXD copies from it by alias, `lxc image list t:` lists
 * exactly what was exported, and Hangar's own reader reads it back the same.
 * A re-export adds a version and leaves the files already there untouched.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { machine, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { OperationSummary } from '../../shared/contract.js';
import type { Envelope } from '../../shared/errors.js';
import type { ShareInfo } from '../../shared/sharing.js';
import { tar } from '../../scripts/sandbox/tar.js';
import { deleteProject } from '../../scripts/sandbox/projects.js';
import {
  startSimplestreamsServer,
  type SimplestreamsServer,
} from '../../scripts/simplestreams/server.js';
import { dispatch } from '../dispatch.js';
import { createHangar, type Hangar } from '../hangar.js';
import { watchOperation } from '../operations/watch.js';
import { plaintextCodec } from '../remotes/identity.js';
import { SimplestreamsClient } from '../simplestreams/client.js';
import type { CatalogAlias } from '../simplestreams/catalog.js';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const project = `streams-export-${process.pid}`;
const fixture = (key: string) => {
  const found = sandbox.fixtures.find((candidate) => candidate.key === key);
  if (found === undefined) throw new Error(`no fixture ${key}`);
  return found;
};
const lxcLocal = async (...args: string[]) =>
  (await run('lxc', args, { env: { ...process.env, LXD_DIR: sandbox.localDir } })).stdout;

let hangar: Hangar;
let dir: string;
let tree: string;

async function call<T>(name: string, input: unknown): Promise<T> {
  const envelope = (await dispatch(hangar.handlers, name, input)) as Envelope<T>;
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

async function operation(name: string, input: unknown): Promise<OperationSummary> {
  const started = await call<OperationSummary>(name, input);
  return watchOperation(hangar.handlers, started.id, { timeoutMs: 60_000 });
}

/** Every file of the tree, by its path relative to the tree, with contents. */
async function treeFiles(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(path.slice(root.length + 1), await readFile(path));
  }
  return files;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** lxc in its own config, trusting the tests' server (Go reads SSL_CERT_FILE). */
async function lxcFor(server: SimplestreamsServer, name: string) {
  const conf = join(dir, name);
  const env = {
    ...process.env,
    LXD_DIR: sandbox.localDir,
    LXD_CONF: conf,
    SSL_CERT_FILE: join(dir, 'server.pem'),
  };
  const lxc = async (...args: string[]) =>
    (await run('lxc', args, { env, maxBuffer: 1 << 26 })).stdout;
  await lxc('remote', 'add', 't', server.url, '--protocol', 'simplestreams', '--public');
  return lxc;
}

async function listings(server: SimplestreamsServer, name: string) {
  const lxc = await lxcFor(server, name);
  const images = JSON.parse(await lxc('image', 'list', 't:', '--format', 'json')) as Record<
    string,
    unknown
  >[];
  const aliases = JSON.parse(
    await lxc('image', 'alias', 'list', 't:', '--format', 'json'),
  ) as CatalogAlias[];
  const client = new SimplestreamsClient({
    url: server.url,
    cacheDir: join(dir, `${name}-cache`),
    ca: server.ca,
    hostArchitectures: [machine()],
  });
  const catalog = await client.load();
  await client.close();
  return { lxc, images, aliases, catalog };
}

const normalize = (image: Record<string, unknown>) => ({
  ...image,
  aliases: image.aliases ?? [],
  profiles: image.profiles ?? [],
});
const byName = (a: CatalogAlias, b: CatalogAlias) =>
  a.name === b.name ? a.type.localeCompare(b.type) : a.name < b.name ? -1 : 1;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-streams-export-'));
  tree = join(dir, 'tree');
  await run('mkdir', [tree]);
  await writeFile(join(dir, 'server.pem'), sandbox.trustedServer.certificate);
  await lxcLocal('project', 'create', project, '-c', 'features.profiles=false');
  hangar = await createHangar({
    env: { LXD_DIR: sandbox.localDir, HOME: dir },
    dataDir: join(dir, 'data'),
    secrets: plaintextCodec('test'),
    extraCa: sandbox.trustedServer.certificate,
  });
});

afterAll(async () => {
  await hangar.close();
  await deleteProject(sandbox.localDir, project);
  await rm(dir, { recursive: true, force: true });
});

describe('export as simplestreams', () => {
  const exported = ['unified', 'split', 'multi'].map(fixture);
  let first: Map<string, Buffer>;
  let firstTimes: Map<string, number>;

  it('writes a tree that LXD copies from by alias and lists exactly', async () => {
    const done = await operation('images.exportSimplestreams', {
      remote: 'local',
      fingerprints: exported.map((image) => image.fingerprint),
      directory: tree,
    });
    expect(done.error).toBeUndefined();
    expect(done).toMatchObject({
      state: 'succeeded',
      kind: 'export',
      result: { message: '3 images added to the tree' },
    });
    first = await treeFiles(tree);
    firstTimes = new Map();
    for (const path of first.keys()) firstTimes.set(path, (await stat(join(tree, path))).mtimeMs);
    // The image files are LXD's own: the split one is metadata + rootfs, gzip as stored.
    const split = fixture('split');
    const version = [...first.keys()].filter((path) => path.startsWith('images/Alpine/3.20/'));
    expect(version.map((path) => path.split('/').pop()).sort()).toEqual([
      'lxd.tar.gz',
      'root.tar.gz',
    ]);
    const [meta, root] = ['lxd.tar.gz', 'root.tar.gz'].map((name) =>
      first.get(version.find((path) => path.endsWith(name)) ?? ''),
    );
    expect(sha256(Buffer.concat([meta ?? Buffer.alloc(0), root ?? Buffer.alloc(0)]))).toBe(
      split.fingerprint,
    );

    const server = await startSimplestreamsServer({
      files: first,
      identity: sandbox.trustedServer,
    });
    try {
      const { lxc, images, aliases, catalog } = await listings(server, 'lxc1');
      expect(images.map((image) => image.fingerprint).sort()).toEqual(
        exported.map((image) => image.fingerprint).sort(),
      );
      const names = aliases.map((alias) => alias.name);
      for (const image of exported)
        for (const alias of image.aliases) {
          expect(names).toContain(alias.name);
          expect(aliases.find((entry) => entry.name === alias.name)?.target).toBe(
            image.fingerprint,
          );
        }
      // Hangar's reader: the same images, field for field, and the same aliases.
      expect(catalog.images).toStrictEqual(images.map(normalize));
      expect([...catalog.aliases].sort(byName)).toStrictEqual([...aliases].sort(byName));
      // The sandbox LXD pulls from the tree by alias and checks the fingerprints.
      for (const alias of ['fixture/split', 'fixture/unified'])
        await lxc('image', 'copy', `t:${alias}`, 'local:', '--target-project', project);
      const copied = JSON.parse(
        await lxcLocal('image', 'list', '--project', project, '--format', 'json'),
      ) as { fingerprint: string }[];
      expect(copied.map((image) => image.fingerprint).sort()).toEqual(
        [fixture('split').fingerprint, fixture('unified').fingerprint].sort(),
      );
    } finally {
      await server.close();
    }
  });

  it('adds a new version on re-export without rewriting what is there; the alias follows it', async () => {
    // A newer build of the unified fixture's product (Debian bookworm), with its alias.
    const metadata = {
      path: 'metadata.yaml',
      content: `architecture: x86_64\ncreation_date: 1750000000\nproperties:\n  os: Debian\n  release: bookworm\n  variant: default\n  description: newer build\n`,
    };
    const file = join(dir, 'newer.tar.gz');
    const newer = gzipSync(
      tar([metadata, { path: 'templates' }, { path: 'rootfs' }, { path: 'rootfs/etc' }]),
    );
    await writeFile(file, newer);
    await lxcLocal(
      'image',
      'import',
      file,
      '--project',
      project,
      '--alias',
      'fixture/unified-next',
    );
    const fingerprint = sha256(newer);
    await lxcLocal(
      'image',
      'alias',
      'create',
      'fixture/unified',
      fingerprint,
      '--project',
      project,
    );

    const done = await operation('images.exportSimplestreams', {
      remote: 'local',
      project,
      fingerprints: [fingerprint, fixture('split').fingerprint],
      directory: tree,
    });
    expect(done.error).toBeUndefined();
    expect(done.result?.message).toBe('1 image added, 1 image already in the tree');
    const second = await treeFiles(tree);
    for (const [path, content] of first) {
      if (path.startsWith('streams/')) continue;
      expect(second.get(path), path).toEqual(content);
      expect((await stat(join(tree, path))).mtimeMs, path).toBe(firstTimes.get(path));
    }
    const added = [...second.keys()].filter((path) => !first.has(path));
    expect(added).toEqual([
      expect.stringMatching(
        /^images\/Debian\/bookworm\/amd64\/default\/20250615_\d{4}\/lxd_combined\.tar\.gz$/,
      ),
    ]);

    const server = await startSimplestreamsServer({
      files: second,
      identity: sandbox.trustedServer,
    });
    try {
      const { images, aliases, catalog } = await listings(server, 'lxc2');
      expect(images.map((image) => image.fingerprint).sort()).toEqual(
        [...exported.map((image) => image.fingerprint), fingerprint].sort(),
      );
      // The product's aliases go to its newest version, as LXD reads them.
      expect(aliases.find((alias) => alias.name === 'fixture/unified')?.target).toBe(fingerprint);
      expect(aliases.find((alias) => alias.name === 'fixture/unified-next')?.target).toBe(
        fingerprint,
      );
      expect(catalog.images).toStrictEqual(images.map(normalize));
      expect([...catalog.aliases].sort(byName)).toStrictEqual([...aliases].sort(byName));
    } finally {
      await server.close();
    }
  });

  it('is refused over the web transport, which writes into no folder', async () => {
    const envelope = await dispatch(
      hangar.handlers,
      'images.exportSimplestreams',
      { remote: 'local', fingerprints: [fixture('split').fingerprint], directory: tree },
      'web',
    );
    expect(envelope).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
  });
});

describe('share', () => {
  it('says how others add the server, exposing its API first when it is not', async () => {
    const info = await call<ShareInfo>('remotes.shareInfo', { remote: 'local' });
    const texts = info.commands.map((command) => command.text);
    if (info.httpsAddress === '') expect(texts[0]).toBe('lxc config set core.https_address :8443');
    expect(texts.some((text) => /^lxc remote add \S+ https:\/\/\S+ --public$/.test(text))).toBe(
      true,
    );
  });
});
