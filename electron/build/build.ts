/**
 * "Build image": a root filesystem folder (or tarball) on this machine packed
 * as an LXD image, as the LXD book's "Manually building an image" does by hand:
 * metadata.yaml (architecture, creation_date, expiry_date, properties,
 * templates) and templates/*.tpl next to rootfs/ in one tarball (unified),
 * or the metadata in one tarball and the rootfs's contents in another
 * (split). The tar is written entry by entry from disk and compressed on the
 * way (node:zlib for gzip, the xz and zstd tools LXD uses for the others), so
 * the image is never held in memory. The fingerprint is LXD's: sha256 of the
 * file, or of the metadata file followed by the rootfs file.
 *
 * A rootfs tarball (or squashfs) is checked by the importer's inspector
 * (LXD's rules, and paths or links that would leave the root); split, it is
 * the rootfs file as it is, hashed after the metadata; unified, its members
 * are moved under rootfs/ as they stream (tar-rebase.ts), never unpacked.
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, constants, type Stats } from 'node:fs';
import {
  access,
  link,
  lstat,
  mkdtemp,
  open,
  readdir,
  readlink,
  rm,
  unlink,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { YAML11_SCHEMA, dump } from 'js-yaml';
import type { BuildCheck, CallInput, Handlers, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { LxdServerInfo } from '../../shared/lxd.js';
import type { OperationContext, OperationResult, Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { importFiles } from '../images/import-files.js';
import type { StagedUploads } from '../images/staged-uploads.js';
import { tarEnd, tarEntryHeader, tarPadding } from '../images/tar-writer.js';
import {
  decompressedFile,
  describeFormat,
  detectFormat,
  type FileFormat,
} from '../tarballs/compression.js';
import { inspectingStream, parseMetadataYaml } from '../tarballs/inspect.js';
import { rebaseTar } from './tar-rebase.js';
import { KNOWN_ARCHITECTURES } from '../simplestreams/architectures.js';

type BuildInput = CallInput<'build.check'>;
type PackInput = CallInput<'build.pack'>;
type Template = BuildInput['templates'][number];

/** The file each template is stored as under templates/: its path's last part, made unique. */
export function templateFiles(templates: readonly Template[]): string[] {
  const used = new Set<string>();
  return templates.map((template) => {
    const stem = (posix.basename(template.path) || 'template').replace(/[^A-Za-z0-9._-]/g, '_');
    let name = `${stem}.tpl`;
    for (let n = 2; used.has(name); n++) name = `${stem}-${n}.tpl`;
    used.add(name);
    return name;
  });
}

/** metadata.yaml as the build writes it. */
export function metadataYaml(input: Pick<BuildInput, 'metadata' | 'templates'>): string {
  const { metadata, templates } = input;
  const files = templateFiles(templates);
  const document: Record<string, unknown> = {
    architecture: metadata.architecture,
    creation_date: metadata.creationDate,
    ...(metadata.expiryDate === undefined ? {} : { expiry_date: metadata.expiryDate }),
    properties: metadata.properties,
  };
  if (templates.length > 0)
    document.templates = Object.fromEntries(
      templates.map((template, index) => [
        template.path,
        {
          when: template.when,
          ...(template.createOnly ? { create_only: true } : {}),
          template: files[index],
          ...(Object.keys(template.properties).length > 0
            ? { properties: template.properties }
            : {}),
        },
      ]),
    );
  // YAML 1.1 (LXD's go-yaml v2): "yes", "no", "on" are quoted to stay text.
  return dump(document, { schema: YAML11_SCHEMA, lineWidth: -1 });
}

/** Problems of the metadata and templates alone (no folder read). */
function metadataProblems(input: BuildInput, yaml: string): string[] {
  const problems: string[] = [];
  try {
    parseMetadataYaml(Buffer.from(yaml), 'the image');
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  const seen = new Set<string>();
  for (const template of input.templates) {
    const { path } = template;
    if (!path.startsWith('/'))
      problems.push(
        `Template path ${JSON.stringify(path)} is not absolute: it names a file in the instance, such as /etc/hostname.`,
      );
    else if (path.split('/').includes('..'))
      problems.push(
        `Template path ${JSON.stringify(path)} has "..": it would point outside the instance's root filesystem.`,
      );
    if (seen.has(path)) problems.push(`Template path ${path} is listed twice.`);
    seen.add(path);
    if (template.when.length === 0)
      problems.push(
        `Template ${path} has no "when" (create, copy, start or rename): LXD would never apply it.`,
      );
  }
  return problems;
}

interface WalkEntry {
  /** Relative to the rootfs, "" for the rootfs itself. */
  relative: string;
  full: string;
  stats: Stats;
}

/**
 * Every entry under the folder, parents before children, in name order. The check walks past
 * folders it cannot read (it reports them); packing never does (a file would go missing).
 */
async function* walk(
  root: string,
  relative = '',
  pastUnreadable = false,
): AsyncGenerator<WalkEntry> {
  const full = relative === '' ? root : join(root, relative);
  const stats = await lstat(full);
  yield { relative, full, stats };
  if (!stats.isDirectory()) return;
  let names: string[];
  try {
    names = (await readdir(full)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (pastUnreadable && (code === 'EACCES' || code === 'EPERM')) return;
    throw error;
  }
  for (const name of names)
    yield* walk(root, relative === '' ? name : `${relative}/${name}`, pastUnreadable);
}

/** Whether a symlink's relative target climbs above the root (absolute ones resolve inside the instance). */
function escapes(relative: string, target: string): boolean {
  if (target.startsWith('/')) return false;
  let depth = relative.split('/').length - 1;
  for (const part of target.split('/')) {
    if (part === '..') depth--;
    else if (part !== '.' && part !== '') depth++;
    if (depth < 0) return true;
  }
  return false;
}

const LIMIT = 50;

/** What a rootfs file is, from its first bytes (undefined: not an image file; the inspector says why). */
async function fileFormat(path: string): Promise<FileFormat | undefined> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return detectFormat(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

/** A rootfs tarball's problems: what the importer's inspector refuses, as LXD would. */
async function tarballProblems(rootfs: string): Promise<string[]> {
  try {
    const { stream, result } = inspectingStream(createReadStream(rootfs), 'rootfs', {
      name: basename(rootfs),
    });
    // Only read through: the refusal comes from `result` (the stream's error is the same one).
    stream.on('error', () => undefined).resume();
    await result;
    return [];
  } catch (error) {
    return [HangarError.from(error).message];
  }
}

/** What stops the folder (or tarball) from being packed, each with the file it is about. */
export async function rootfsProblems(
  rootfs: string,
  layout: 'unified' | 'split' = 'split',
): Promise<string[]> {
  let top: Stats;
  try {
    top = await lstat(rootfs);
  } catch {
    return [`${rootfs} does not exist or cannot be read.`];
  }
  if (top.isFile()) {
    const format = await fileFormat(rootfs);
    if (layout === 'unified' && format !== undefined && format.kind !== 'tarball')
      return [
        `${basename(rootfs)} is ${describeFormat(format)}: it can only be the rootfs file of a split image. Choose the split layout.`,
      ];
    return tarballProblems(rootfs);
  }
  if (!top.isDirectory())
    return [`${rootfs} is not a folder or a file: choose the root filesystem folder or tarball.`];
  const problems: string[] = [];
  let entries = 0;
  const note = (message: string) => {
    if (problems.length < LIMIT) problems.push(message);
    else if (problems.length === LIMIT) problems.push('… and more.');
  };
  try {
    for await (const { relative, full, stats } of walk(rootfs, '', true)) {
      if (relative !== '') entries++;
      const shown = `/${relative}`;
      if (stats.isFIFO()) note(`${shown} is a named pipe (FIFO): an image holds no special files.`);
      else if (stats.isSocket()) note(`${shown} is a socket: an image holds no special files.`);
      else if (stats.isCharacterDevice() || stats.isBlockDevice())
        note(`${shown} is a device node: an image holds none (LXD creates /dev in the instance).`);
      else if (stats.isSymbolicLink()) {
        const target = await readlink(full);
        if (escapes(relative, target))
          note(`${shown} is a symlink to ${target}, which leaves the root filesystem.`);
      } else {
        try {
          await access(
            full,
            stats.isDirectory() ? constants.R_OK | constants.X_OK : constants.R_OK,
          );
        } catch {
          note(
            `${shown} cannot be read by Hangar (${stats.isDirectory() ? 'folder' : 'file'} mode ${(stats.mode & 0o7777).toString(8)}).`,
          );
        }
      }
    }
  } catch (error) {
    note(`Walking ${rootfs} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (entries === 0) note(`${rootfs} is empty: an image needs a root filesystem.`);
  return problems;
}

export async function checkBuild(
  input: BuildInput,
  layout: 'unified' | 'split' = 'split',
): Promise<BuildCheck> {
  const yaml = metadataYaml(input);
  const problems = metadataProblems(input, yaml);
  if (input.rootfs !== undefined) problems.push(...(await rootfsProblems(input.rootfs, layout)));
  return { yaml, problems };
}

/** A rootfs file's name ending (its format), kept on the packed copy: `.tar.xz`, `.squashfs`… */
function fileEnding(path: string): string {
  return /(\.tar(\.[a-z0-9]+)?|\.tgz|\.squashfs|\.qcow2|\.img)$/i.exec(basename(path))?.[0] ?? '';
}

/** Copies a rootfs file into `path` (a new file), feeding `hash`. */
async function copyRootfsFile(
  from: string,
  path: string,
  hash: Hash,
  onBytes: (bytes: number) => void,
  signal: AbortSignal,
): Promise<void> {
  await pipeline(
    createReadStream(from, { highWaterMark: 1024 * 1024 }),
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        onBytes(chunk.length);
        done(null, chunk);
      },
    }),
    createWriteStream(path, { flags: 'wx', mode: 0o644 }),
    { signal },
  );
}

/** The tar stream of the image (unified), or of its metadata or rootfs part (split). */
async function* tarStream(
  input: PackInput,
  part: 'unified' | 'metadata' | 'rootfs',
  yaml: string,
  onBytes: (bytes: number) => void,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  const mtime = input.metadata.creationDate;
  const file = (name: string, data: Buffer) => [
    tarEntryHeader(name, data.length, mtime),
    data,
    Buffer.alloc(tarPadding(data.length)),
  ];
  if (part !== 'rootfs') {
    yield Buffer.concat(file('metadata.yaml', Buffer.from(yaml)));
    if (input.templates.length > 0) {
      yield tarEntryHeader('templates/', 0, mtime, { type: '5', mode: 0o755 });
      const names = templateFiles(input.templates);
      for (const [index, template] of input.templates.entries())
        yield Buffer.concat(file(`templates/${names[index]}`, Buffer.from(template.template)));
    }
  }
  const fromFile = part === 'unified' && (await lstat(input.rootfs)).isFile();
  if (fromFile) {
    // A rootfs tarball, moved under rootfs/ member by member (checkBuild inspected it).
    const format = await fileFormat(input.rootfs);
    if (format?.kind !== 'tarball')
      throw new HangarError('invalid-input', `${input.rootfs} is not a tarball.`);
    const name = basename(input.rootfs);
    for await (const piece of rebaseTar(
      decompressedFile(input.rootfs, format.compression, name),
      'rootfs',
      name,
    )) {
      if (signal.aborted) throw new HangarError('cancelled', 'The build was cancelled.');
      onBytes(piece.length);
      yield piece;
    }
  } else if (part !== 'metadata') {
    const prefix = part === 'unified' ? 'rootfs' : '.';
    for await (const { relative, full, stats } of walk(input.rootfs)) {
      if (signal.aborted) throw new HangarError('cancelled', 'The build was cancelled.');
      const name = relative === '' ? prefix : `${prefix}/${relative}`;
      const owner = {
        mode: stats.mode & 0o7777,
        uid: stats.uid,
        gid: stats.gid,
      };
      const when = Math.floor(stats.mtimeMs / 1000);
      if (stats.isDirectory()) yield tarEntryHeader(`${name}/`, 0, when, { ...owner, type: '5' });
      else if (stats.isSymbolicLink())
        yield tarEntryHeader(name, 0, when, {
          ...owner,
          type: '2',
          linkname: await readlink(full),
        });
      else if (stats.isFile()) {
        yield tarEntryHeader(name, stats.size, when, { ...owner, type: '0' });
        let written = 0;
        for await (const chunk of createReadStream(full, { highWaterMark: 1024 * 1024 })) {
          const buffer = chunk as Buffer;
          // A file that grew meanwhile is cut at the size in its header.
          const piece = buffer.subarray(0, Math.max(0, stats.size - written));
          written += piece.length;
          if (piece.length > 0) yield piece;
          onBytes(buffer.length);
        }
        if (written < stats.size)
          throw new HangarError('invalid-input', `/${relative} shrank while it was packed.`);
        yield Buffer.alloc(tarPadding(stats.size));
      } else throw new HangarError('invalid-input', `/${relative} is a special file.`);
    }
  }
  yield tarEnd();
}

const EXTENSIONS = { gzip: '.tar.gz', xz: '.tar.xz', zstd: '.tar.zst', none: '.tar' } as const;
const TOOLS = {
  xz: { command: 'xz', args: ['-zc', '-T0', '-6'], pkg: 'xz-utils' },
  zstd: { command: 'zstd', args: ['-c', '-q', '-T0', '-3'], pkg: 'zstd' },
} as const;

/** Writes `source` compressed into `path` (a new file), feeding `hash`. */
async function writeCompressed(
  source: AsyncGenerator<Buffer>,
  compression: PackInput['compression'],
  path: string,
  hash: ReturnType<typeof createHash>,
  signal: AbortSignal,
): Promise<void> {
  const hashing = () =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
  const out: Writable = createWriteStream(path, { flags: 'wx' });
  if (compression === 'none' || compression === 'gzip') {
    const steps =
      compression === 'gzip'
        ? [Readable.from(source), createGzip({ level: 6 }), hashing(), out]
        : [Readable.from(source), hashing(), out];
    await pipeline(steps, { signal });
    return;
  }
  const tool = TOOLS[compression];
  const child = spawn(tool.command, tool.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new HangarError(
              'invalid-input',
              `Packing with ${compression} needs the ${tool.command} command: install the ${tool.pkg} package.`,
            )
          : error,
      ),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${tool.command} failed: ${stderr.trim() || `exit status ${code}`}`)),
    );
  });
  const onAbort = () => child.kill();
  signal.addEventListener('abort', onAbort);
  try {
    await Promise.all([
      pipeline(Readable.from(source), child.stdin, { signal }),
      pipeline(child.stdout, hashing(), out, { signal }),
      exited,
    ]);
  } catch (error) {
    child.kill();
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Moves a file to its final name, never over an existing one. */
async function placeFile(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new HangarError('invalid-input', `${to} already exists: Hangar does not overwrite it.`);
    throw error;
  } finally {
    await unlink(from).catch(() => undefined);
  }
}

/** Packs into `directory`; the files written (metadata first when split) and the fingerprint. */
async function packInto(
  input: PackInput,
  directory: string,
  yaml: string,
  context: OperationContext,
): Promise<{ files: string[]; fingerprint: string }> {
  const hash = createHash('sha256');
  const extension = EXTENSIONS[input.compression];
  let packed = 0;
  const onBytes = (bytes: number) => {
    packed += bytes;
    context.progress({ stage: 'Packing', processed: packed });
  };
  const parts: ('unified' | 'metadata' | 'rootfs')[] =
    input.layout === 'unified' ? ['unified'] : ['metadata', 'rootfs'];
  // A rootfs tarball is the split image's rootfs file as it is (unified: moved under rootfs/).
  const fromFile = (await lstat(input.rootfs)).isFile();
  const temporary: string[] = [];
  try {
    for (const part of parts) {
      const path = join(directory, `.hangar-build-${randomUUID()}${extension}.partial`);
      temporary.push(path);
      context.progress({
        stage: part === 'metadata' ? 'Packing the metadata' : 'Packing',
        processed: packed,
      });
      if (part === 'rootfs' && fromFile)
        await copyRootfsFile(input.rootfs, path, hash, onBytes, context.signal);
      else
        await writeCompressed(
          tarStream(input, part, yaml, onBytes, context.signal),
          input.compression,
          path,
          hash,
          context.signal,
        );
    }
    const fingerprint = hash.digest('hex');
    const names =
      input.layout === 'unified'
        ? [`${fingerprint}${extension}`]
        : [
            `meta-${fingerprint}${extension}`,
            `${fingerprint}${fromFile ? fileEnding(input.rootfs) : extension}`,
          ];
    const files = names.map((name) => join(directory, name));
    const placed: string[] = [];
    try {
      for (const [index, file] of files.entries()) {
        await placeFile(temporary[index] ?? '', file);
        placed.push(file);
      }
    } catch (error) {
      for (const file of placed) await unlink(file).catch(() => undefined);
      throw error;
    }
    return { files, fingerprint };
  } finally {
    for (const path of temporary) await unlink(path).catch(() => undefined);
  }
}

/** Waits for another operation (the import) to end; cancels it when this one is cancelled. */
async function waitFor(
  operations: Operations,
  id: string,
  signal: AbortSignal,
): Promise<OperationSummary> {
  const onAbort = () => operations.cancel(id);
  signal.addEventListener('abort', onAbort);
  try {
    for (;;) {
      const current = operations.list().find((operation) => operation.id === id);
      if (current === undefined) throw new Error(`The import ${id} is gone.`);
      if (current.state !== 'running') return current;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

const shellQuote = (text: string) =>
  /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;

export async function packBuild(
  remotes: RemoteRegistry,
  operations: Operations,
  uploads: StagedUploads,
  input: PackInput,
): Promise<OperationSummary> {
  const { yaml, problems } = await checkBuild(input, input.layout);
  if (problems.length > 0)
    throw new HangarError('invalid-input', `Nothing was packed: ${problems.join(' ')}`);
  const { importTo, directory } = input;
  if (importTo !== undefined) remotes.lxd(importTo.remote);
  const name = input.metadata.properties.description ?? input.rootfs;
  const fromFile = (await lstat(input.rootfs)).isFile();
  const command = [
    fromFile
      ? input.layout === 'split'
        ? `tar -c metadata.yaml templates … (rootfs: ${shellQuote(input.rootfs)} as it is)`
        : `tar -c metadata.yaml templates … (+ ${shellQuote(input.rootfs)} under rootfs/)`
      : `tar -C ${shellQuote(input.rootfs)} …`,
    ...(importTo === undefined
      ? []
      : [
          `lxc image import <files> ${shellQuote(`${importTo.remote}:`)}${importTo.project === undefined ? '' : ` --project ${shellQuote(importTo.project)}`}`,
        ]),
  ].join(' && ');
  return operations.start(
    {
      kind: 'build',
      title:
        importTo === undefined
          ? `Build ${name} into ${directory ?? ''}`
          : `Build ${name} and import it into ${importTo.remote}${importTo.project === undefined ? '' : ` (project ${importTo.project})`}`,
      command,
    },
    async (context): Promise<OperationResult> => {
      const scratch =
        directory === undefined ? await mkdtemp(join(tmpdir(), 'hangar-build-')) : undefined;
      try {
        const packed = await packInto(input, directory ?? scratch ?? '', yaml, context);
        if (importTo === undefined)
          return { remote: '', project: '', fingerprint: packed.fingerprint, files: packed.files };
        context.progress({ stage: 'Importing' });
        const started = await importFiles(remotes, operations, uploads, {
          remote: importTo.remote,
          ...(importTo.project === undefined ? {} : { project: importTo.project }),
          files: packed.files.map((path) => ({ path })),
          aliases: importTo.aliases,
          public: importTo.public,
          properties: {},
        });
        const ended = await waitFor(operations, started.id, context.signal);
        if (ended.state !== 'succeeded')
          throw new HangarError(
            ended.state === 'cancelled' ? 'cancelled' : 'lxd-error',
            `Packed (${packed.fingerprint}), but the import ${ended.state}: ${ended.error?.message ?? ''}`,
          );
        return {
          remote: importTo.remote,
          project: importTo.project ?? 'default',
          fingerprint: ended.result?.fingerprint ?? packed.fingerprint,
          ...(directory === undefined ? {} : { files: packed.files }),
        };
      } finally {
        if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
      }
    },
  );
}

/** The server's architectures first (GET /1.0 environment.architectures), then every name LXD knows. */
async function architectures(remotes: RemoteRegistry, remote: string): Promise<string[]> {
  const server = await remotes
    .lxd(remote)
    .withClient((client) => client.get<LxdServerInfo>('/1.0'));
  const own = server.environment?.architectures ?? [];
  return [...new Set([...own, ...KNOWN_ARCHITECTURES])];
}

export function buildHandlers(
  remotes: RemoteRegistry,
  operations: Operations,
  uploads: StagedUploads,
): Pick<Handlers, 'build.architectures' | 'build.check' | 'build.pack'> {
  return {
    'build.architectures': (input) => architectures(remotes, input.remote),
    'build.check': ({ layout, ...input }) => checkBuild(input, layout),
    'build.pack': (input) => packBuild(remotes, operations, uploads, input),
  };
}
