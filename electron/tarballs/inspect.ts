/**
 * The image file inspector: in the same pass that streams a file to LXD,
 * it hashes the bytes, decompresses tarballs and walks their entries,
 * parses metadata.yaml, and stops the stream at the first thing LXD would
 * refuse or that would be unsafe to unpack. One pass, bounded memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { load } from 'js-yaml';
import { HangarError } from '../../shared/errors.js';
import { architectureName } from '../simplestreams/architectures.js';
import { corruptError, decompressor, detectFormat, type FileFormat } from './compression.js';
import { TarReader, type TarEntry } from './tar-entries.js';

export { detectFormat, type Compression, type FileFormat } from './compression.js';

export interface ImageMetadata {
  architecture: string;
  creationDate: number;
  expiryDate?: number;
  properties: Record<string, string>;
  templates: Record<
    string,
    { when: string[]; template: string; createOnly?: boolean; properties?: Record<string, string> }
  >;
}

export interface FileInspection {
  format: FileFormat;
  size: number;
  /** Of this file's bytes (when the caller passed a shared hash, of everything fed to it so far). */
  sha256: string;
  metadata?: ImageMetadata;
  templateFiles: string[];
  contents: { rootfsDir: boolean; rootfsImg: boolean; entries: number };
}

export type FileRole = 'unified' | 'metadata' | 'rootfs';

const METADATA_LIMIT = 1024 * 1024;

const invalid = (message: string) => new HangarError('invalid-image', message);

function parseMetadata(name: string, yaml: Buffer): ImageMetadata {
  let document: unknown;
  try {
    document = load(yaml.toString('utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw invalid(`metadata.yaml in ${name} is not valid YAML: ${reason}.`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw invalid(`metadata.yaml in ${name} is not a YAML mapping.`);
  const fields = document as Record<string, unknown>;
  const architecture = fields.architecture;
  if (architecture === undefined || architecture === null || architecture === '')
    throw invalid(`metadata.yaml in ${name} has no architecture (it is required).`);
  if (typeof architecture !== 'string' || architectureName(architecture) === undefined)
    throw invalid(
      `metadata.yaml in ${name} names an architecture LXD does not know: ${JSON.stringify(architecture)}.`,
    );
  const creation = fields.creation_date;
  if (creation === undefined || creation === null)
    throw invalid(`metadata.yaml in ${name} has no creation_date (it is required).`);
  if (typeof creation !== 'number' || !Number.isInteger(creation) || creation === 0)
    throw invalid(
      `metadata.yaml in ${name} has an invalid creation_date: ${JSON.stringify(creation)} (a non-zero Unix time is required).`,
    );
  const properties: Record<string, string> = {};
  const rawProperties: unknown = fields.properties ?? {};
  if (typeof rawProperties !== 'object' || rawProperties === null || Array.isArray(rawProperties))
    throw invalid(`metadata.yaml in ${name}: properties must be a mapping.`);
  for (const [key, value] of Object.entries(rawProperties as Record<string, unknown>))
    properties[key] = typeof value === 'string' ? value : JSON.stringify(value);
  const templates: ImageMetadata['templates'] = {};
  const rawTemplates: unknown = fields.templates ?? {};
  if (typeof rawTemplates !== 'object' || rawTemplates === null || Array.isArray(rawTemplates))
    throw invalid(`metadata.yaml in ${name}: templates must be a mapping.`);
  for (const [path, value] of Object.entries(rawTemplates as Record<string, unknown>)) {
    const template = (value ?? {}) as Record<string, unknown>;
    if (typeof template.template !== 'string')
      throw invalid(`metadata.yaml in ${name}: the template for ${path} names no template file.`);
    templates[path] = {
      when: Array.isArray(template.when) ? template.when.map(String) : [],
      template: template.template,
      ...(template.create_only === true ? { createOnly: true } : {}),
    };
  }
  const expiry = fields.expiry_date;
  return {
    architecture,
    creationDate: creation,
    ...(typeof expiry === 'number' && expiry !== 0 ? { expiryDate: expiry } : {}),
    properties,
    templates,
  };
}

/** Checks each entry as it comes: no absolute paths, no "..", nothing written through a link. */
class EntryChecker {
  metadataYaml: Buffer | undefined;
  templateFiles: string[] = [];
  rootfsDir = false;
  rootfsImg = false;
  private readonly links = new Set<string>();

  constructor(private readonly name: string) {}

  entry(entry: TarEntry): number {
    const raw = entry.path;
    if (entry.type === 'other' && raw === '') return 0;
    if (raw.startsWith('/'))
      throw invalid(
        `${this.name} contains an absolute path, ${raw}: an image's paths are relative.`,
      );
    const segments = raw.split('/').filter((segment) => segment !== '' && segment !== '.');
    if (segments.includes('..'))
      throw invalid(`${this.name} contains ${raw}, which escapes the image (a path with ..).`);
    const path = segments.join('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      if (this.links.has(parent))
        throw invalid(
          `${this.name} writes ${raw} through the link ${parent}, which could escape the image.`,
        );
    }
    if (entry.type === 'symlink' || entry.type === 'hardlink') {
      const target = entry.linkTarget;
      const escapes =
        entry.type === 'hardlink'
          ? target.startsWith('/') || target.split('/').includes('..')
          : !target.startsWith('/') &&
            posix.normalize(posix.join(posix.dirname(path), target)).startsWith('..');
      if (escapes)
        throw invalid(
          `${this.name} contains a ${entry.type === 'symlink' ? 'symbolic' : 'hard'} link ${raw} -> ${target} that points outside the image.`,
        );
      this.links.add(path);
    }
    if (segments[0] === 'rootfs') this.rootfsDir = true;
    if (path === 'rootfs.img') this.rootfsImg = true;
    if (segments[0] === 'templates' && segments.length > 1 && entry.type === 'file')
      this.templateFiles.push(segments.slice(1).join('/'));
    if (path === 'metadata.yaml' && entry.type === 'file') {
      if (entry.size > METADATA_LIMIT)
        throw invalid(
          `metadata.yaml in ${this.name} is ${entry.size} bytes; Hangar reads at most 1 MiB.`,
        );
      return entry.size;
    }
    return 0;
  }

  content(entry: TarEntry, data: Buffer): void {
    if (entry.path.replace(/^\.\//, '') === 'metadata.yaml') this.metadataYaml = data;
  }
}

async function write(target: Writable, chunk: Buffer): Promise<void> {
  if (!target.write(chunk)) await once(target, 'drain');
}

/**
 * Passes the bytes through unchanged, with backpressure, while inspecting
 * them. The stream errors with a specific HangarError as soon as the file is
 * refused; the last bytes are held back until the whole file checked out,
 * so a reader never receives a complete bad file.
 */
export function inspectingStream(
  source: NodeJS.ReadableStream | AsyncIterable<Buffer>,
  role: FileRole,
  options: {
    name?: string;
    signal?: AbortSignal;
    onBytes?: (count: number) => void;
    hash?: Hash;
  } = {},
): { stream: Readable; result: Promise<FileInspection> } {
  const name = options.name ?? 'the file';
  const output = new PassThrough({ highWaterMark: 1024 * 1024 });
  const hash = options.hash ?? createHash('sha256');
  const result = (async (): Promise<FileInspection> => {
    let size = 0;
    let format: FileFormat | undefined;
    let held: Buffer | undefined;
    let head = Buffer.alloc(0);
    const checker = new EntryChecker(name);
    let reader: TarReader | undefined;
    let inflate: ReturnType<typeof decompressor>;
    let parseError: Error | undefined;
    let parsed: Promise<void> | undefined;
    const start = (first: Buffer) => {
      format = detectFormat(first);
      if (format === undefined)
        throw invalid(
          `${name} is not an image file: not a tarball (gzip, xz, bzip2, lzma, zstd or plain), squashfs or qcow2.`,
        );
      if (format.kind !== 'tarball') {
        if (role !== 'rootfs')
          throw invalid(
            `${name} is a ${format.kind} disk, which can only be the rootfs of a split image.`,
          );
        return;
      }
      reader = new TarReader(name, checker, format.compression);
      inflate = decompressor(format.compression, name);
      const sink = reader;
      parsed = new Promise<void>((resolve, reject) => {
        sink.on('finish', resolve);
        sink.on('error', reject);
        const compression = format?.kind === 'tarball' ? format.compression : 'none';
        inflate?.on('error', (error: Error) => {
          reject(
            error instanceof HangarError ? error : corruptError(compression, name, error.message),
          );
        });
      });
      parsed.catch((error: unknown) => {
        parseError ??= HangarError.from(error);
      });
      inflate?.pipe(sink);
    };
    const feed = async (chunk: Buffer) => {
      if (parseError !== undefined) throw parseError;
      if (format === undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 512) return;
        start(head);
        chunk = head;
      }
      const target = inflate ?? reader;
      if (target !== undefined) await Promise.race([write(target, chunk), parsed]);
    };
    try {
      for await (const item of source as AsyncIterable<Buffer | string>) {
        if (options.signal?.aborted)
          throw new HangarError('cancelled', `Reading ${name} was cancelled.`);
        const chunk = typeof item === 'string' ? Buffer.from(item) : item;
        size += chunk.length;
        hash.update(chunk);
        options.onBytes?.(chunk.length);
        // The reader and the inspection proceed side by side, each at its own pace.
        const previous = held;
        await Promise.all([
          feed(chunk),
          previous === undefined ? undefined : write(output, previous),
        ]);
        held = chunk;
      }
      if (size === 0) throw invalid(`${name} is empty.`);
      if (format === undefined) {
        // A file smaller than one tar block.
        start(head);
        const first = inflate ?? reader;
        if (first !== undefined) await Promise.race([write(first, head), parsed]);
      }
      const target = inflate ?? reader;
      if (target !== undefined) {
        target.end();
        await parsed;
      }
      if (parseError !== undefined) throw parseError;
      let metadata: ImageMetadata | undefined;
      if (checker.metadataYaml !== undefined) metadata = parseMetadata(name, checker.metadataYaml);
      if ((role === 'unified' || role === 'metadata') && metadata === undefined)
        throw invalid(
          `${name} has no metadata.yaml: ${role === 'unified' ? 'it is not an LXD image' : 'it is not the metadata of an LXD image (the smaller of two files is the metadata, as lxc decides)'}.`,
        );
      if (role === 'unified' && !checker.rootfsDir && !checker.rootfsImg)
        throw invalid(
          `${name} has metadata.yaml but no rootfs/ or rootfs.img: for a split image, drop the rootfs file with it.`,
        );
      if (held !== undefined) await write(output, held);
      output.end();
      return {
        format: format ?? { kind: 'tarball', compression: 'none' },
        size,
        sha256: options.hash === undefined ? hash.digest('hex') : '',
        ...(metadata === undefined ? {} : { metadata }),
        templateFiles: checker.templateFiles,
        contents: {
          rootfsDir: checker.rootfsDir,
          rootfsImg: checker.rootfsImg,
          entries: reader?.entries ?? 0,
        },
      };
    } catch (error) {
      const failure =
        options.signal?.aborted === true
          ? new HangarError('cancelled', `Reading ${name} was cancelled.`)
          : HangarError.from(error);
      inflate?.destroy();
      reader?.destroy();
      output.destroy(failure);
      throw failure;
    }
  })();
  result.catch(() => undefined);
  return { stream: output, result };
}

async function regularFile(path: string): Promise<number> {
  const name = basename(path);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw invalid(`${name} does not exist.`);
  if (info.isDirectory()) throw invalid(`${name} is a folder, not an image file.`);
  if (!info.isFile()) throw invalid(`${name} is not a regular file.`);
  if (info.size === 0) throw invalid(`${name} is empty.`);
  return info.size;
}

/** Reads a whole file through the inspector (to show what was dropped, and in tests). */
export async function inspectFile(
  path: string,
  role: FileRole,
  options: { signal?: AbortSignal; onBytes?: (count: number) => void } = {},
): Promise<FileInspection> {
  await regularFile(path);
  const { stream, result } = inspectingStream(createReadStream(path), role, {
    ...options,
    name: basename(path),
  });
  // Only the result matters here; its error is the stream's.
  stream.on('error', () => undefined);
  stream.resume();
  return result;
}

/** lxc's rule for two files: the smaller one is the metadata. */
export async function orderSplitFiles(paths: [string, string]): Promise<[string, string]> {
  const [a, b] = paths;
  const [sizeA, sizeB] = await Promise.all([regularFile(a), regularFile(b)]);
  return sizeA <= sizeB ? [a, b] : [b, a];
}
