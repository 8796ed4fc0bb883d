/**
 * The image file inspector: in the same pass that streams a file to LXD, it
 * hashes the bytes, decompresses tarballs and walks their entries, parses
 * metadata.yaml, and stops the stream at the first thing LXD would refuse or
 * that would be unsafe to unpack. One pass, bounded memory (no file is ever
 * buffered: a header block, the current chunk, metadata.yaml up to 1 MiB).
 *
 * What LXD itself checks at import (lxd/images.go getImgPostInfo →
 * getImageMetadata): the first `metadata.yaml` / `./metadata.yaml` of the
 * (metadata) tarball must be a regular file of at most 1 MiB whose YAML
 * decodes into api.ImageMetadata, with an architecture osarch knows and a
 * non-zero creation_date. It reads no further than it needs and never looks
 * at a split image's rootfs. Hangar checks that the same way, and more, since
 * it reads every byte anyway: every entry's path (no absolute path, no ..,
 * nothing written through a symbolic link), link targets, truncated or
 * corrupt compression, a unified tarball without rootfs, a rootfs that is not
 * a tarball, squashfs or qcow2. Device files are allowed: LXD unpacks them
 * (and skips dev/* itself when it runs unprivileged). Tried on LXD 5.0.2:
 * it imports truncated tarballs and ones with .., hard links out of the
 * image or files written through a symlink, and only fails when an instance
 * is created from them (GNU tar refuses them at unpack); Hangar refuses them
 * before the upload.
 *
 * Fingerprints: a unified image's is the sha256 of its file; a split image's
 * is the sha256 of the metadata bytes followed by the rootfs bytes. For the
 * latter, create one hash with `createCombinedHash()` and pass it as `hash`
 * to the metadata's inspectingStream and then to the rootfs's: each feeds
 * its bytes in, and each result's `sha256` is the digest of everything fed
 * to that hash so far (so the metadata's is of the metadata file alone and
 * the rootfs's is the image fingerprint). Without `hash`, the inspector makes
 * its own and `sha256` is of that file alone.
 */
import { createStreamHash, type StreamHash } from './worker-hash.js';
import { constants, createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, posix, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { FAILSAFE_SCHEMA, YAML11_SCHEMA, loadAll, mergeTag } from 'js-yaml';
import { HangarError } from '../../shared/errors.js';
import {
  entryRole,
  roleFromEntries,
  splitOrder,
  type SplitRole,
} from '../../shared/images/split-order.js';
import { architectureName } from '../simplestreams/architectures.js';
import {
  Tripwire,
  createDecoder,
  describeFormat,
  detectFormat,
  type Decoder,
  type FileFormat,
} from './compression.js';
import { TarParser, type TarEntry, type TarVisitor } from './tar-entries.js';

export { detectFormat, type Compression, type FileFormat } from './compression.js';

export interface ImageMetadata {
  /** As written in metadata.yaml (an LXD name or one of its aliases, e.g. x86_64 or amd64). */
  architecture: string;
  /** Unix seconds, non-zero. */
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
  /** Bytes. */
  size: number;
  /**
   * sha256 of the file's bytes; with a shared `hash` option, of everything
   * fed to that hash up to the end of this file (see the top of this file).
   */
  sha256: string;
  /** Present when the file is a tarball containing metadata.yaml (unified, or the split metadata tarball). */
  metadata?: ImageMetadata;
  /** Files under templates/ in the tarball, relative to it. */
  templateFiles: string[];
  /** unified: has rootfs/ (container) or rootfs.img (virtual-machine). entries: tar entries read. */
  contents: { rootfsDir: boolean; rootfsImg: boolean; entries: number };
}

export type ImageFileRole = 'unified' | 'metadata' | 'rootfs';

export interface InspectOptions {
  /** The file's name, for messages (default "the file"). */
  name?: string;
  signal?: AbortSignal;
  /** Called for each chunk read, with its length in bytes (add them up for progress). */
  onBytes?: (bytesRead: number) => void;
  /** A hash to feed instead of making one: for the fingerprint of a split image (createCombinedHash). */
  hash?: StreamHash;
}

/** LXD reads at most this much of metadata.yaml (lxd/util MaxYAMLFileBytes). */
export const METADATA_YAML_LIMIT = 1024 * 1024;

/** The hash of a split image's fingerprint: pass it as `hash` to the metadata's inspectingStream, then to the rootfs's. */
export function createCombinedHash(): StreamHash {
  return createStreamHash();
}

const invalid = (message: string) => new HangarError('invalid-image', message);
const cancelled = (name: string) => new HangarError('cancelled', `Reading ${name} was cancelled.`);

// ---------------------------------------------------------------------------
// metadata.yaml, decoded as LXD's go-yaml v2 into api.ImageMetadata does.

/**
 * Architecture names newer LXD releases know beyond the ones in
 * simplestreams/architectures.ts (LXD 5.0.2); LXD has the last word anyway.
 */
const NEWER_ARCHITECTURES = new Set(['amd64v3', 'mipsle', 'mips64le', 'loongarch64', 'loong64']);

/** go-yaml v2 is YAML 1.1 (yes/no booleans, merge keys); duplicate keys are not an error there. */
const TYPED_SCHEMA = YAML11_SCHEMA.withTags(mergeTag);
/** The same document with every scalar as written: go-yaml v2 keeps a scalar's text when it decodes into a string. */
const TEXT_SCHEMA = FAILSAFE_SCHEMA.withTags(mergeTag);

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
const describe = (value: unknown) =>
  Array.isArray(value) ? 'a list' : isMapping(value) ? 'a mapping' : JSON.stringify(value);

/** A value decoded into a Go string: scalars keep their text, null is "", collections fail. */
function goString(typed: unknown, text: unknown, what: string, where: string): string {
  if (typed === null || typed === undefined) return '';
  if (typeof text === 'string') return text;
  throw invalid(`${where}: ${what} must be text, not ${describe(typed)}.`);
}

function goStringMap(typed: unknown, text: unknown, what: string, where: string) {
  const result: Record<string, string> = {};
  if (typed === null || typed === undefined) return result;
  if (!isMapping(typed) || !isMapping(text))
    throw invalid(`${where}: ${what} must be a mapping of names to text, not ${describe(typed)}.`);
  for (const [key, value] of Object.entries(text))
    result[key] = goString(
      // A key the YAML 1.1 reading changed (n → false) is found only as text.
      Object.hasOwn(typed, key) ? typed[key] : value,
      value,
      `${what}.${key}`,
      where,
    );
  return result;
}

/** A Go int64 field: YAML integers, and floats truncated as go-yaml v2 does. */
function goInt(typed: unknown, what: string, where: string): number | undefined {
  if (typed === null || typed === undefined) return undefined;
  if (typeof typed === 'number' && Number.isFinite(typed)) return Math.trunc(typed);
  throw invalid(
    `${where}: ${what} must be a Unix time (a number of seconds), not ${typed instanceof Date ? 'a date' : describe(typed)}.`,
  );
}

/** Decodes and validates metadata.yaml as LXD does; `name` is the file it came from, for messages. */
export function parseMetadataYaml(data: Buffer, name: string): ImageMetadata {
  const where = `metadata.yaml in ${name}`;
  let typed: unknown;
  let text: unknown;
  try {
    const source = data.toString('utf8');
    // go-yaml's Decoder reads the first document only.
    typed = loadAll(source, { schema: TYPED_SCHEMA, json: true, maxAliases: 1000 })[0];
    text = loadAll(source, { schema: TEXT_SCHEMA, json: true, maxAliases: 1000 })[0];
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw invalid(`${where} is not valid YAML: ${reason}.`);
  }
  if (typed === undefined || typed === null) throw invalid(`${where} is empty.`);
  if (!isMapping(typed) || !isMapping(text))
    throw invalid(
      `${where} is not a YAML mapping (of architecture, creation_date, properties…) but ${describe(typed)}.`,
    );

  const rawArchitecture = typed.architecture;
  if (rawArchitecture === undefined || rawArchitecture === null || rawArchitecture === '')
    throw invalid(`${where} has no architecture (it is required, e.g. architecture: x86_64).`);
  // LXD's osarch.ArchitectureId reads the first word.
  const architecture = goString(rawArchitecture, text.architecture, 'architecture', where)
    .trim()
    .split(/\s+/)[0];
  if (
    architecture === undefined ||
    (architectureName(architecture) === undefined && !NEWER_ARCHITECTURES.has(architecture))
  )
    throw invalid(
      `${where} names an architecture LXD does not know: ${JSON.stringify(architecture ?? '')} (LXD knows e.g. x86_64, aarch64, armv7l, i686, ppc64le, s390x, riscv64 and their aliases amd64, arm64…).`,
    );

  const creationDate = goInt(typed.creation_date, 'creation_date', where);
  if (creationDate === undefined)
    throw invalid(
      `${where} has no creation_date (it is required: the Unix time the image was made).`,
    );
  if (creationDate === 0)
    throw invalid(
      `${where} has creation_date 0: LXD needs the time the image was made (a non-zero Unix time).`,
    );
  const expiryDate = goInt(typed.expiry_date, 'expiry_date', where);

  const properties = goStringMap(typed.properties, text.properties, 'properties', where);

  const templates: ImageMetadata['templates'] = {};
  const rawTemplates = typed.templates;
  if (rawTemplates !== undefined && rawTemplates !== null) {
    if (!isMapping(rawTemplates) || !isMapping(text.templates))
      throw invalid(
        `${where}: templates must be a mapping of paths in the instance to templates, not ${describe(rawTemplates)}.`,
      );
    const textTemplates = text.templates;
    for (const [path, textTemplate] of Object.entries(textTemplates)) {
      const template = Object.hasOwn(rawTemplates, path) ? rawTemplates[path] : undefined;
      // An empty entry decodes to a nil pointer, which LXD accepts.
      if (template === undefined || template === null) {
        templates[path] = { when: [], template: '' };
        continue;
      }
      const what = `templates.${path}`;
      if (!isMapping(template) || !isMapping(textTemplate))
        throw invalid(
          `${where}: ${what} must be a mapping (when, template, create_only, properties), not ${describe(template)}.`,
        );
      let when: string[] = [];
      if (template.when !== undefined && template.when !== null) {
        const textWhen = textTemplate.when;
        if (!Array.isArray(template.when) || !Array.isArray(textWhen))
          throw invalid(
            `${where}: ${what}.when must be a list such as [create, copy], not ${describe(template.when)}.`,
          );
        when = template.when.map((item: unknown, index) =>
          goString(item, textWhen[index], `${what}.when`, where),
        );
      }
      const createOnly = template.create_only;
      if (createOnly !== undefined && createOnly !== null && typeof createOnly !== 'boolean')
        throw invalid(
          `${where}: ${what}.create_only must be true or false, not ${describe(createOnly)}.`,
        );
      const templateProperties = goStringMap(
        template.properties,
        textTemplate.properties,
        `${what}.properties`,
        where,
      );
      templates[path] = {
        when,
        template: goString(template.template, textTemplate.template, `${what}.template`, where),
        ...(createOnly === true ? { createOnly: true } : {}),
        ...(Object.keys(templateProperties).length > 0 ? { properties: templateProperties } : {}),
      };
    }
  }

  return {
    architecture,
    creationDate,
    ...(expiryDate === undefined || expiryDate === 0 ? {} : { expiryDate }),
    properties,
    templates,
  };
}

// ---------------------------------------------------------------------------
// The tar entries.

const ENTRY_KINDS: Record<TarEntry['type'], string> = {
  file: 'a file',
  directory: 'a directory',
  symlink: 'a symbolic link',
  hardlink: 'a hard link',
  'character-device': 'a character device',
  'block-device': 'a block device',
  fifo: 'a named pipe',
  other: 'a special entry',
};

/** Top-level names that say "this is a root filesystem". */
const ROOTFS_TOP = ['bin', 'etc', 'usr', 'lib', 'sbin', 'var'];

/** Checks each entry as it comes: no absolute path, no "..", nothing written through a link, metadata.yaml. */
class EntryChecker implements TarVisitor {
  metadata: ImageMetadata | undefined;
  metadataSeen = false;
  templateFiles: string[] = [];
  rootfsDir = false;
  rootfsImg = false;
  /** The first top-level names (bounded), to describe what a tarball looks like. */
  readonly topLevel = new Set<string>();
  /** Paths of the symbolic links seen so far. */
  private readonly symlinks = new Set<string>();

  constructor(
    private readonly name: string,
    private readonly role: ImageFileRole,
  ) {}

  /** The first proper prefix of `segments` that is a symbolic link, if any. */
  private throughLink(segments: string[]): string | undefined {
    if (this.symlinks.size === 0) return undefined;
    let prefix = '';
    for (let i = 0; i < segments.length - 1; i++) {
      prefix = i === 0 ? (segments[0] ?? '') : `${prefix}/${segments[i] ?? ''}`;
      if (this.symlinks.has(prefix)) return prefix;
    }
    return undefined;
  }

  entry(entry: TarEntry): number {
    // A volume label names the archive, not a file in it.
    if (entry.typeFlag === 'V') return 0;
    const name = this.name;
    const raw = entry.path;
    if (raw.includes('\0')) throw invalid(`${name} contains a file name with a NUL byte in it.`);
    if (raw.startsWith('/'))
      throw invalid(
        `${name} contains an absolute path, ${raw}: the paths in an image are relative.`,
      );
    const segments = raw.split('/').filter((segment) => segment !== '' && segment !== '.');
    if (segments.includes('..'))
      throw invalid(`${name} contains ${raw}, which escapes the image (a path with ..).`);
    if (segments.length === 0) return 0; // "./", the image's own top directory
    const path = segments.join('/');
    const link = this.throughLink(segments);
    if (link !== undefined)
      throw invalid(
        `${name} writes ${raw} through the symbolic link ${link}, which could put it outside the image.`,
      );
    if (this.topLevel.size < 64) this.topLevel.add(segments[0] ?? '');

    if (entry.type === 'symlink') {
      const target = entry.linkTarget;
      // Absolute targets resolve inside the instance; relative ones must stay in the image.
      if (!target.startsWith('/')) {
        const resolved = posix.normalize(posix.join(posix.dirname(path), target));
        if (resolved === '..' || resolved.startsWith('../'))
          throw invalid(
            `${name} contains a symbolic link ${raw} -> ${target} that points outside the image.`,
          );
      }
      this.symlinks.add(path);
    } else if (entry.type !== 'directory') {
      // Unpacking a file replaces a link of the same name (a directory may follow it: keep it).
      this.symlinks.delete(path);
    }
    if (entry.type === 'hardlink') {
      const target = entry.linkTarget;
      const targetSegments = target
        .split('/')
        .filter((segment) => segment !== '' && segment !== '.');
      if (target.startsWith('/') || targetSegments.includes('..'))
        throw invalid(
          `${name} contains a hard link ${raw} -> ${target} that points outside the image.`,
        );
      const targetLink = this.throughLink([...targetSegments, '']);
      if (targetLink !== undefined)
        throw invalid(
          `${name} contains a hard link ${raw} -> ${target} through the symbolic link ${targetLink}, which could reach outside the image.`,
        );
    }

    if (segments[0] === 'rootfs' && (segments.length > 1 || entry.type === 'directory'))
      this.rootfsDir = true;
    if (path === 'rootfs.img' && entry.type === 'file') this.rootfsImg = true;
    if (segments[0] === 'templates' && segments.length > 1 && entry.type === 'file')
      this.templateFiles.push(segments.slice(1).join('/'));

    // LXD reads the first entry named exactly so.
    if (
      this.role !== 'rootfs' &&
      !this.metadataSeen &&
      (raw === 'metadata.yaml' || raw === './metadata.yaml')
    ) {
      this.metadataSeen = true;
      if (entry.type !== 'file')
        throw invalid(
          `metadata.yaml in ${name} is ${ENTRY_KINDS[entry.type]}, not a regular file: LXD refuses it.`,
        );
      if (entry.size > METADATA_YAML_LIMIT)
        throw invalid(
          `metadata.yaml in ${name} is too large (${(entry.size / 1024 / 1024).toFixed(1)} MiB): LXD reads at most 1 MiB.`,
        );
      if (entry.size === 0) this.metadata = parseMetadataYaml(Buffer.alloc(0), name);
      return entry.size;
    }
    if (this.role === 'rootfs' && segments.length === 1 && path === 'metadata.yaml')
      this.metadataSeen = true;
    return 0;
  }

  content(_entry: TarEntry, data: Buffer): void {
    // Only metadata.yaml is ever kept. Parsed now, so a bad one stops the upload early.
    this.metadata = parseMetadataYaml(data, this.name);
  }

  private looksLikeRootfs(): boolean {
    return ROOTFS_TOP.some((top) => this.topLevel.has(top));
  }

  /** What the whole tarball must have, by role. */
  finish(): void {
    const name = this.name;
    if (this.role === 'unified') {
      if (this.metadata === undefined)
        throw invalid(
          this.looksLikeRootfs()
            ? `${name} has no metadata.yaml: it looks like a root filesystem, not an LXD image. Import it together with a metadata tarball (two files).`
            : `${name} has no metadata.yaml at its top, so it is not an LXD image.`,
        );
      if (!this.rootfsDir && !this.rootfsImg)
        throw invalid(
          `${name} has metadata.yaml but no rootfs/ or rootfs.img: it is only the metadata of a split image. Import it together with its rootfs file.`,
        );
    } else if (this.role === 'metadata') {
      if (this.metadata === undefined)
        throw invalid(
          this.looksLikeRootfs()
            ? `${name} has no metadata.yaml and looks like a root filesystem: neither of the two files is the metadata tarball of a split image (a tarball with metadata.yaml at its top).`
            : `${name} has no metadata.yaml at its top, so it is not the metadata tarball of a split image.`,
        );
    } else if (this.metadataSeen && this.rootfsDir) {
      throw invalid(
        `${name} is a unified image (metadata.yaml and rootfs/), not the rootfs of a split image: import it on its own.`,
      );
    }
  }
}

// ---------------------------------------------------------------------------
// The stream.

const HEAD = 512;

/** Reads the format from the first bytes, then feeds the rest to the right checks. */
class FileChecker {
  format: FileFormat | undefined;
  readonly checker: EntryChecker;
  parser: TarParser | undefined;
  private decoder: Decoder | undefined;
  private head: Buffer[] = [];
  private headLength = 0;
  private squashfsBytes = 0;
  private broken = false;

  constructor(
    private readonly name: string,
    private readonly role: ImageFileRole,
    private readonly fail: (error: unknown) => void,
  ) {
    this.checker = new EntryChecker(name, role);
  }

  async push(chunk: Buffer): Promise<void> {
    if (this.format === undefined) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      if (this.headLength < HEAD) return;
      chunk = Buffer.concat(this.head);
      this.head = [];
      this.start(chunk);
    }
    await this.feed(chunk);
  }

  private start(head: Buffer): void {
    const name = this.name;
    const format = detectFormat(head);
    if (format === undefined) throw invalid(`${name} ${notAnImage(head)}`);
    this.format = format;
    if (format.kind === 'squashfs') {
      if (this.role !== 'rootfs') throw wrongRole(name, format, this.role);
      // The superblock: version at 28, bytes used at 40 (little-endian).
      if (head.length < 48) throw invalid(`${name} is a squashfs filesystem but truncated.`);
      const major = head.readUInt16LE(28);
      if (major !== 4)
        throw invalid(`${name} is a squashfs filesystem of version ${major}; LXD reads version 4.`);
      this.squashfsBytes = Number(head.readBigUInt64LE(40));
      return;
    }
    if (format.kind === 'qcow2') {
      if (this.role !== 'rootfs') throw wrongRole(name, format, this.role);
      const version = head.length >= 8 ? head.readUInt32BE(4) : 0;
      if (version !== 2 && version !== 3)
        throw invalid(`${name} is a qcow2 disk image of an unknown version (${version}).`);
      return;
    }
    const parser = new TarParser(this.checker, { name, compression: format.compression });
    this.parser = parser;
    if (format.compression !== 'none') {
      this.decoder = createDecoder(
        format.compression,
        name,
        (data) => {
          if (this.broken) return;
          try {
            parser.push(data);
          } catch (error) {
            this.broken = true;
            this.fail(error);
          }
        },
        (error) => {
          this.broken = true;
          this.fail(error);
        },
      );
    }
  }

  private async feed(chunk: Buffer): Promise<void> {
    if (this.decoder !== undefined) await this.decoder.write(chunk);
    else this.parser?.push(chunk);
  }

  /** The file ended: everything that can only be said at the end. */
  async finish(size: number): Promise<void> {
    const name = this.name;
    if (size === 0) throw invalid(`${name} is empty.`);
    if (this.format === undefined) {
      // Smaller than one tar block.
      const head = Buffer.concat(this.head);
      this.head = [];
      this.start(head);
      await this.feed(head);
    }
    if (this.format?.kind === 'squashfs' && size < this.squashfsBytes)
      throw invalid(
        `${name} is a squashfs filesystem but truncated: it has ${size} bytes of the ${this.squashfsBytes} its superblock announces.`,
      );
    if (this.parser === undefined) return;
    await this.decoder?.end();
    this.parser.end();
    this.checker.finish();
  }

  destroy(): void {
    this.broken = true;
    this.decoder?.destroy();
  }
}

function wrongRole(name: string, format: FileFormat, role: ImageFileRole): HangarError {
  return invalid(
    role === 'unified'
      ? `${name} is ${describeFormat(format)}, which can only be the rootfs of a split image: import it together with its metadata tarball.`
      : `${name} is ${describeFormat(format)}, but the metadata of a split image is a tarball with metadata.yaml.`,
  );
}

/** What a file that is none of LXD's formats seems to be, for the message. */
function notAnImage(head: Buffer): string {
  const known: [string, number[], number?][] = [
    ['a PNG picture', [0x89, 0x50, 0x4e, 0x47]],
    ['a JPEG picture', [0xff, 0xd8, 0xff]],
    ['a ZIP archive', [0x50, 0x4b, 0x03, 0x04]],
    ['a 7-Zip archive', [0x37, 0x7a, 0xbc, 0xaf]],
    ['a RAR archive', [0x52, 0x61, 0x72, 0x21]],
    ['a PDF document', [0x25, 0x50, 0x44, 0x46]],
    ['a VMDK disk', [0x4b, 0x44, 0x4d, 0x56]],
    ['a program (ELF)', [0x7f, 0x45, 0x4c, 0x46]],
  ];
  const match = known.find(([, bytes]) => bytes.every((byte, index) => head[index] === byte));
  return `is not an LXD image file${match === undefined ? '' : `: it is ${match[0]}`}. LXD reads tarballs (plain, or compressed with gzip, bzip2, xz, lzma or zstd), and squashfs or qcow2 for the rootfs of a split image.`;
}

type Source = NodeJS.ReadableStream | AsyncIterable<Buffer>;

/**
 * Passes the bytes through unchanged, with backpressure, while inspecting
 * them. The stream is destroyed with a specific HangarError ('invalid-image',
 * or 'cancelled' when the signal fires) as soon as the file is refused; the
 * last chunk is held back until the whole file checked out, so a reader
 * never receives a complete bad file. `result` resolves when the file ended
 * cleanly (and rejects with the same error otherwise; also with 'cancelled'
 * if the reader destroys the stream before the end).
 */
export function inspectingStream(
  source: Source,
  role: ImageFileRole,
  options: InspectOptions = {},
): { stream: Readable; result: Promise<FileInspection> } {
  const name = options.name ?? 'the file';
  const { signal, onBytes } = options;
  const output = new PassThrough({ highWaterMark: 1024 * 1024 });
  // sha256 runs in a worker thread: a big file's hashing never holds up the event loop.
  const hash = options.hash ?? createStreamHash();
  // The first fatal event (a refusal seen by the decoder or the tar parser, the
  // signal, the reader going away) trips the wire; every wait stops at it.
  const wire = new Tripwire();
  const fail = (error: unknown) => wire.trip(HangarError.from(error));
  const race = <T>(promise: Promise<T>): Promise<T> => wire.race(promise);
  let done = false;
  const readerGone = () =>
    new HangarError('cancelled', `Reading ${name} stopped: its reader closed the stream early.`);
  const onAbort = () => fail(cancelled(name));
  const onClose = () => {
    if (!done) fail(readerGone());
  };

  const result = (async (): Promise<FileInspection> => {
    const file = new FileChecker(name, role, fail);
    let iterator: AsyncIterator<Buffer | string> | undefined;
    let size = 0;
    let held: Buffer | undefined;
    const send = async (chunk: Buffer) => {
      if (output.destroyed) throw readerGone();
      if (!output.write(chunk))
        await new Promise<void>((resolve) => {
          const settle = () => {
            output.off('drain', settle);
            output.off('close', settle);
            resolve();
          };
          output.on('drain', settle);
          output.on('close', settle);
        });
    };
    try {
      signal?.addEventListener('abort', onAbort, { once: true });
      output.on('close', onClose);
      if (signal?.aborted) throw cancelled(name);
      iterator = (source as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
      for (;;) {
        const next = await race(iterator.next());
        if (next.done === true) break;
        const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
        if (chunk.length === 0) continue;
        size += chunk.length;
        hash.update(chunk);
        const behind = hash.ready();
        if (behind !== undefined) await race(behind);
        onBytes?.(chunk.length);
        await race(file.push(chunk));
        if (held !== undefined) await race(send(held));
        held = chunk;
      }
      await race(file.finish(size));
      const sha256 = await race(hash.digest());
      if (held !== undefined) await race(send(held));
      done = true;
      output.end();
      return {
        format: file.format ?? { kind: 'tarball', compression: 'none' },
        size,
        sha256,
        ...(file.checker.metadata === undefined ? {} : { metadata: file.checker.metadata }),
        templateFiles: file.checker.templateFiles,
        contents: {
          rootfsDir: file.checker.rootfsDir,
          rootfsImg: file.checker.rootfsImg,
          entries: file.parser?.entries ?? 0,
        },
      };
    } catch (error) {
      done = true;
      // The first failure wins over what it caused (a write to a destroyed stream, a killed tool).
      wire.trip(readFailure(name, error));
      const refusal =
        signal?.aborted === true ? cancelled(name) : HangarError.from(wire.failure?.error);
      file.destroy();
      // Stops reading the source. A Readable is destroyed at once: its iterator's
      // return() would wait for a pending read, which may never come.
      const readable = source as Partial<Readable>;
      if (typeof readable.destroy === 'function') readable.destroy();
      else iterator?.return?.().catch(() => undefined);
      output.destroy(refusal);
      throw refusal;
    } finally {
      // Its own hash goes whatever happened (an open one keeps the process alive).
      if (options.hash === undefined) hash.dispose();
      signal?.removeEventListener('abort', onAbort);
      output.off('close', onClose);
    }
  })();
  result.catch(() => undefined);
  return { stream: output, result };
}

/** A source that could not be read, said for the user; other errors as they are. */
function readFailure(name: string, error: unknown): HangarError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return invalid(`${name} does not exist.`);
  if (code === 'EISDIR') return invalid(`${name} is a directory, not an image file.`);
  if (code === 'EACCES' || code === 'EPERM')
    return invalid(`${name} cannot be read: permission denied.`);
  if (code === 'EIO') return invalid(`${name} cannot be read: input/output error (a bad disk?).`);
  return HangarError.from(error);
}

/** The size of a regular, non-empty, readable file; otherwise why it is not one. `name` is the user's. */
export async function imageFileSize(path: string, name = basename(path)): Promise<number> {
  const info = await stat(path).catch((error: unknown) => {
    throw readFailure(name, error);
  });
  if (info.isDirectory()) throw invalid(`${name} is a directory, not an image file.`);
  if (!info.isFile()) throw invalid(`${name} is not a regular file (a device, socket or pipe).`);
  if (info.size === 0) throw invalid(`${name} is empty.`);
  await access(path, constants.R_OK).catch((error: unknown) => {
    throw readFailure(name, error);
  });
  return info.size;
}

/**
 * Reads a file through inspectingStream to the end (to show what was dropped
 * before an upload, and in tests), after checking it is a regular, non-empty file.
 */
export async function inspectFile(
  path: string,
  role: ImageFileRole,
  options: { signal?: AbortSignal; onBytes?: (bytesRead: number) => void } = {},
): Promise<FileInspection> {
  await imageFileSize(path);
  const { stream, result } = inspectingStream(
    createReadStream(path, { highWaterMark: 1024 * 1024 }),
    role,
    { ...options, name: basename(path) },
  );
  // Only the result matters here; the stream's error is the same.
  stream.on('error', () => undefined);
  stream.resume();
  return result;
}

/** How much of a file the look at its first entries reads at most. */
const PEEK_BYTES = 16 * 1024 * 1024;
const PEEK_ENTRIES = 256;

function* chunksOf(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

/** Stops the peek's tar parser once an entry told what the tarball is. */
class Decided extends Error {}

/**
 * What a file of a split image is by its content, from its first bytes and
 * entries only (a squashfs or qcow2 image is a rootfs; a tarball is what its
 * first telling entry says, see shared/images/split-order.ts). `undefined`
 * when it cannot tell (not an image format, a damaged file, nothing telling
 * in its first entries): the full inspection during the upload says why.
 */
export async function peekSplitRole(
  path: string | Buffer,
  name = typeof path === 'string' ? basename(path) : 'the file',
): Promise<SplitRole | undefined> {
  // A file, or the bytes of one (web mode holds a split image's small file in memory).
  const source =
    typeof path === 'string'
      ? createReadStream(path, { highWaterMark: 64 * 1024 })
      : Readable.from(chunksOf(path, 64 * 1024));
  // Set from the parser's and the decoder's callbacks.
  const peek: { role: SplitRole | undefined; decided: boolean; entries: number } = {
    role: undefined,
    decided: false,
    entries: 0,
  };
  let parser: TarParser | undefined;
  let decoder: Decoder | undefined;
  const push = (data: Buffer) => {
    if (peek.decided || parser === undefined) return;
    try {
      parser.push(data);
    } catch {
      // Decided, or not a tarball: either way the peek is over.
      peek.decided = true;
    }
  };
  /** Starts reading the tarball once its first bytes said how; false when it is not one. */
  const start = async (head: Buffer): Promise<SplitRole | 'tarball' | undefined> => {
    const format = detectFormat(head);
    if (format === undefined) return undefined;
    if (format.kind !== 'tarball') return 'rootfs';
    parser = new TarParser(
      {
        entry: (entry) => {
          peek.entries += 1;
          const said = entryRole(entry.path);
          if (said !== undefined || peek.entries >= PEEK_ENTRIES) {
            peek.role = said;
            peek.decided = true;
            throw new Decided();
          }
          return 0;
        },
      },
      { name, compression: format.compression },
    );
    if (format.compression !== 'none')
      decoder = createDecoder(format.compression, name, push, () => {
        peek.decided = true;
      });
    await feed(head);
    return 'tarball';
  };
  const feed = async (data: Buffer) => {
    if (decoder === undefined) push(data);
    else await decoder.write(data);
  };
  try {
    let head = Buffer.alloc(0);
    let read = 0;
    let started: SplitRole | 'tarball' | undefined;
    for await (const chunk of source) {
      const data = chunk as Buffer;
      read += data.length;
      if (started === undefined) {
        head = Buffer.concat([head, data]);
        if (head.length < HEAD) continue;
        started = await start(head);
        if (started !== 'tarball') return started;
      } else await feed(data);
      if (peek.decided || read >= PEEK_BYTES) return peek.role;
    }
    // Smaller than one tar block.
    if (started === undefined) {
      started = await start(head);
      if (started !== 'tarball') return started;
    }
    await decoder?.end();
    if (!peek.decided) parser?.end();
    if (peek.decided) return peek.role;
    // The whole tarball read, and nothing in it says "metadata".
    return roleFromEntries([], true);
  } catch {
    return peek.decided ? peek.role : undefined;
  } finally {
    decoder?.destroy();
    source.destroy();
  }
}

/**
 * Which of two files is the metadata tarball and which the rootfs: by
 * content first (peekSplitRole), by size when the content cannot tell (a
 * metadata tarball is usually a few kilobytes). `lxc image import` itself
 * takes its first argument as the metadata; Hangar decides because dropped
 * files come in no order. Returns [metadata, rootfs]; refuses directories,
 * empty, missing files and the same file twice. `names` are the user's names
 * for the files, for messages.
 */
export async function orderSplitFiles(
  paths: [string, string],
  names: [string, string] = [basename(paths[0]), basename(paths[1])],
): Promise<[string, string]> {
  const [a, b] = paths;
  if (resolve(a) === resolve(b)) throw invalid(`${names[0]} was given twice.`);
  const [sizeA, sizeB] = await Promise.all([
    imageFileSize(a, names[0]),
    imageFileSize(b, names[1]),
  ]);
  const [roleA, roleB] = await Promise.all([
    peekSplitRole(a, names[0]),
    peekSplitRole(b, names[1]),
  ]);
  const { metadata } = splitOrder({ role: roleA, size: sizeA }, { role: roleB, size: sizeB });
  return metadata === 0 ? [a, b] : [b, a];
}
