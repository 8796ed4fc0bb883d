/**
 * Real-sized LXD images for the import/export benchmark (Hangar against the
 * `lxc` CLI), built once and cached:
 *
 * - `debian-minbase.tar.gz`: a unified image (metadata.yaml + rootfs/ +
 *   templates/, gzip) of a `debootstrap --variant=minbase` Debian rootfs.
 * - `debian-large.tar`: the same rootfs plus 1 GiB of random bytes in
 *   rootfs/var/tmp/, as an uncompressed unified tarball.
 *
 * `npx tsx scripts/bench-image/build.ts [CACHE_DIR]` builds them and prints
 * what it has. Needs root and debootstrap (`apt-get install debootstrap`).
 * The cache is `$HANGAR_BENCH_CACHE` or `~/.cache/hangar-bench`:
 *
 *     manifest.json          what was built, checked against each file's size and mtime
 *     debian-minbase.tar.gz
 *     debian-large.tar
 *     <suite>/rootfs/         the debootstrap rootfs, kept so images rebuild without a download
 *     <suite>/debootstrap.log
 *
 * HANGAR_BENCH_SUITE picks the Debian suite (default bookworm) and
 * HANGAR_BENCH_MIRROR the mirror (default: the Debian mirror in
 * /etc/apt/sources.list(.d), then http://deb.debian.org/debian).
 */
import { spawn } from 'node:child_process';
import { createHash, randomFill } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, machine } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { unmountUnder } from '../sandbox/daemon.js';

export interface BenchImage {
  name: string;
  kind: 'unified';
  /** Absolute path of the image file. */
  path: string;
  /** sha256 of the file: the fingerprint LXD gives a unified image. */
  fingerprint: string;
  /** Size of the file. */
  bytes: number;
  /** Size of the tarball before compression (equal to `bytes` when uncompressed). */
  uncompressedBytes: number;
}

/** A build that cannot go on, with a message that says what to do. */
export class BenchImageError extends Error {}

/** Bump when the way images are built changes, so cached ones are rebuilt. */
const RECIPE = 1;
const SUITE = process.env.HANGAR_BENCH_SUITE ?? 'bookworm';
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
const PADDING_BYTES = 1024 ** 3;
const PADDING_PATH = 'rootfs/var/tmp/hangar-bench-padding.bin';
const MANIFEST = 'manifest.json';

interface Recipe {
  name: string;
  file: string;
  gzip: boolean;
  description: string;
  padding: boolean;
}

const RECIPES: Recipe[] = [
  {
    name: 'debian-minbase',
    file: 'debian-minbase.tar.gz',
    gzip: true,
    description: `Debian ${SUITE} minbase (Hangar benchmark)`,
    padding: false,
  },
  {
    name: 'debian-large',
    file: 'debian-large.tar',
    gzip: false,
    description: `Debian ${SUITE} minbase with 1 GiB of padding (Hangar benchmark)`,
    padding: true,
  },
];

interface ManifestEntry extends Omit<BenchImage, 'path'> {
  file: string;
  recipe: number;
  suite: string;
  mtimeMs: number;
  builtAt: string;
  buildSeconds: number;
}

interface Manifest {
  images: Record<string, ManifestEntry | undefined>;
}

export function defaultCacheDir(): string {
  return process.env.HANGAR_BENCH_CACHE ?? join(homedir(), '.cache', 'hangar-bench');
}

/** The benchmark images, built into `cacheDir` unless a matching one is already there. */
export async function benchImages(cacheDir = defaultCacheDir()): Promise<BenchImage[]> {
  const dir = resolve(cacheDir);
  await mkdir(dir, { recursive: true });
  const manifest = await readManifest(dir);
  const images: BenchImage[] = [];
  for (const recipe of RECIPES) {
    const path = join(dir, recipe.file);
    let entry = manifest.images[recipe.name];
    if (!(await isCurrent(entry, path))) {
      entry = await buildImage(dir, recipe);
      manifest.images[recipe.name] = entry;
      await writeManifest(dir, manifest);
    }
    if (entry === undefined) throw new BenchImageError(`no manifest entry for ${recipe.name}`);
    images.push({
      name: entry.name,
      kind: entry.kind,
      path,
      fingerprint: entry.fingerprint,
      bytes: entry.bytes,
      uncompressedBytes: entry.uncompressedBytes,
    });
  }
  return images;
}

async function readManifest(dir: string): Promise<Manifest> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Partial<Manifest>;
    return { images: parsed.images ?? {} };
  } catch {
    return { images: {} };
  }
}

async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const temporary = join(dir, `${MANIFEST}.partial`);
  await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temporary, join(dir, MANIFEST));
}

/** A cached image is current when it was built by this recipe and its file is untouched. */
async function isCurrent(entry: ManifestEntry | undefined, path: string): Promise<boolean> {
  if (entry?.recipe !== RECIPE || entry.suite !== SUITE) return false;
  const info = await stat(path).catch(() => undefined);
  return info?.size === entry.bytes && Math.round(info.mtimeMs) === entry.mtimeMs;
}

async function buildImage(dir: string, recipe: Recipe): Promise<ManifestEntry> {
  const started = performance.now();
  const rootfsParent = await ensureRootfs(dir);
  const stage = join(dir, `stage-${recipe.name}`);
  await rm(stage, { recursive: true, force: true });
  await mkdir(join(stage, 'templates'), { recursive: true });
  try {
    await writeFile(join(stage, 'metadata.yaml'), metadataYaml(recipe.description));
    // Paths after each -C are relative to it, so every -C is absolute.
    const members = ['-C', stage, 'metadata.yaml', 'templates', '-C', rootfsParent, 'rootfs'];
    if (recipe.padding) {
      log(`${recipe.name}: writing ${formatBytes(PADDING_BYTES)} of random padding`);
      await mkdir(join(stage, 'rootfs/var/tmp'), { recursive: true });
      await writeRandomFile(join(stage, PADDING_PATH), PADDING_BYTES);
      // Named on its own, the file is archived without its parent directories,
      // which the rootfs already holds.
      members.push('-C', stage, PADDING_PATH);
    }
    log(`${recipe.name}: packing ${recipe.file}`);
    const path = join(dir, recipe.file);
    const written = await writeTarball(members, path, recipe.gzip);
    const info = await stat(path);
    const buildSeconds = Math.round((performance.now() - started) / 100) / 10;
    log(`${recipe.name}: ${formatBytes(written.bytes)} in ${buildSeconds} s`);
    return {
      name: recipe.name,
      kind: 'unified',
      file: recipe.file,
      ...written,
      recipe: RECIPE,
      suite: SUITE,
      mtimeMs: Math.round(info.mtimeMs),
      builtAt: new Date().toISOString(),
      buildSeconds,
    };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

function metadataYaml(description: string): string {
  return [
    `architecture: ${machine()}`,
    `creation_date: ${Math.floor(Date.now() / 1000)}`,
    'properties:',
    '  os: Debian',
    `  release: ${SUITE}`,
    '  variant: minbase',
    `  description: ${description}`,
    'templates: {}',
    '',
  ].join('\n');
}

/** Streams `tar` of `members` (through gzip when asked) to `path`, hashing what is written. */
async function writeTarball(
  members: string[],
  path: string,
  gzip: boolean,
): Promise<{ fingerprint: string; bytes: number; uncompressedBytes: number }> {
  const temporary = `${path}.partial`;
  const tar = spawn(
    'tar',
    ['--create', '--file=-', '--numeric-owner', '--xattrs', '--sort=name', ...members],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit, reject) => {
    tar.on('error', reject);
    tar.on('close', resolveExit);
  });
  const uncompressed = byteCounter();
  const written = byteCounter();
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  const stages = gzip ? [uncompressed, createGzip({ level: 6 })] : [uncompressed];
  try {
    await Promise.all([
      pipeline([tar.stdout, ...stages, written, hasher, createWriteStream(temporary)]),
      exited.then((code) => {
        if (code !== 0) throw new BenchImageError(`tar failed (${code}): ${stderr.trim()}`);
      }),
    ]);
  } catch (error) {
    tar.kill();
    await rm(temporary, { force: true });
    throw error;
  }
  await rename(temporary, path);
  return {
    fingerprint: hash.digest('hex'),
    bytes: written.count(),
    uncompressedBytes: uncompressed.count(),
  };
}

function byteCounter(): Transform & { count: () => number } {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  return Object.assign(counter, { count: () => bytes });
}

const randomFillAsync = promisify(randomFill);

async function writeRandomFile(path: string, size: number): Promise<void> {
  const chunkSize = 8 * 1024 * 1024;
  async function* chunks() {
    for (let done = 0; done < size; done += chunkSize) {
      yield await randomFillAsync(Buffer.allocUnsafe(Math.min(chunkSize, size - done)));
    }
  }
  await pipeline(Readable.from(chunks()), createWriteStream(path));
}

/** The debootstrap rootfs for SUITE, built when missing; returns the folder that holds `rootfs/`. */
async function ensureRootfs(dir: string): Promise<string> {
  const parent = join(dir, SUITE);
  const rootfs = join(parent, 'rootfs');
  // debootstrap builds in rootfs.partial, renamed only once it succeeded.
  if (await exists(join(rootfs, 'etc/os-release'))) return parent;

  if (process.getuid?.() !== 0) {
    throw new BenchImageError(
      'Building the benchmark images needs root (debootstrap, and tar keeping owners).',
    );
  }
  const debootstrap = await findExecutable('debootstrap');
  if (debootstrap === undefined) {
    throw new BenchImageError(
      'debootstrap is not installed: run `apt-get install debootstrap` (as root).',
    );
  }
  const mirror = await reachableMirror();
  const partial = `${rootfs}.partial`;
  await removeTree(partial);
  await removeTree(rootfs);
  await mkdir(parent, { recursive: true });
  const logPath = join(parent, 'debootstrap.log');
  log(`debootstrap --variant=minbase ${SUITE} from ${mirror} (about a minute; log: ${logPath})`);
  const code = await new Promise<number | null>((resolveExit, reject) => {
    const child = spawn(debootstrap, ['--variant=minbase', SUITE, partial, mirror], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = createWriteStream(logPath);
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', reject);
    child.on('close', (exitCode) => out.end(() => resolveExit(exitCode)));
  });
  if (code !== 0) {
    const tail = (await readFile(logPath, 'utf8').catch(() => '')).trim().split('\n').slice(-15);
    await unmountUnder(partial);
    throw new BenchImageError(
      `debootstrap failed (exit ${code}); the last lines of ${logPath}:\n${tail.join('\n')}`,
    );
  }
  await unmountUnder(partial);
  await rename(partial, rootfs);
  return parent;
}

/** HANGAR_BENCH_MIRROR, else the first Debian mirror apt uses here that serves SUITE. */
async function reachableMirror(): Promise<string> {
  const override = process.env.HANGAR_BENCH_MIRROR;
  const candidates = override ? [override] : [...(await aptDebianMirrors()), DEFAULT_MIRROR];
  const failures: string[] = [];
  for (const mirror of [...new Set(candidates.map((uri) => uri.replace(/\/+$/, '')))]) {
    const url = `${mirror}/dists/${SUITE}/Release`;
    try {
      const response = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(15_000) });
      if (response.ok) return mirror;
      failures.push(`${url}: HTTP ${response.status} (reachable, but no ${SUITE} there?)`);
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      failures.push(
        `${url}: unreachable (${cause instanceof Error ? cause.message : String(cause)})`,
      );
    }
  }
  throw new BenchImageError(
    `No reachable Debian mirror serves ${SUITE}:\n  ${failures.join('\n  ')}\n` +
      'Set HANGAR_BENCH_MIRROR to a mirror this machine can reach.',
  );
}

/** Debian archive URIs from /etc/apt/sources.list and sources.list.d (one-line and deb822). */
async function aptDebianMirrors(): Promise<string[]> {
  const files = ['/etc/apt/sources.list'];
  const listDir = '/etc/apt/sources.list.d';
  const names = await readdir(listDir).catch(() => [] as string[]);
  files.push(
    ...names.filter((name) => /\.(list|sources)$/.test(name)).map((name) => join(listDir, name)),
  );
  const uris: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        if (/^Enabled:\s*no\s*$/im.test(stanza)) continue;
        if (!/^Types:.*\bdeb\b/im.test(stanza)) continue;
        const line = /^URIs:\s*(.+)$/im.exec(stanza)?.[1];
        if (line !== undefined) uris.push(...line.trim().split(/\s+/));
      }
    } else {
      for (const line of text.split('\n')) {
        const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line.trim());
        if (match?.[1] !== undefined) uris.push(match[1]);
      }
    }
  }
  // The main archive only: not debian-security, debian-backports' own hosts or other vendors.
  return uris.filter((uri) => /^https?:\/\/[^/]+(\/.*)?\/debian\/?$/.test(uri));
}

async function findExecutable(name: string): Promise<string | undefined> {
  // root's PATH has the sbin folders, other users' often do not.
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter((entry) => entry !== '')) {
    const path = join(dir, name);
    if (
      await access(path, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Removes a (possibly half-built) rootfs, unmounting what a killed debootstrap left mounted in it. */
async function removeTree(path: string): Promise<void> {
  if (!(await exists(path))) return;
  await unmountUnder(path);
  await rm(path, { recursive: true, force: true });
}

function log(message: string): void {
  console.error(`[bench-image] ${message}`);
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(2)} GiB`
    : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(resolve(invokedPath)).href) {
  const dir = resolve(process.argv[2] ?? defaultCacheDir());
  try {
    const started = performance.now();
    const images = await benchImages(dir);
    console.log(`Bench images in ${dir} (${((performance.now() - started) / 1000).toFixed(1)} s):`);
    for (const image of images) {
      console.log(
        `  ${image.name.padEnd(15)} ${formatBytes(image.bytes).padStart(10)} ` +
          `(${formatBytes(image.uncompressedBytes)} uncompressed)  ${image.fingerprint}  ${image.path}`,
      );
    }
  } catch (error) {
    console.error(
      error instanceof BenchImageError
        ? error.message
        : error instanceof Error
          ? error.stack
          : error,
    );
    process.exitCode = 1;
  }
}
