/**
 * A rootfs tarball moved under rootfs/ without unpacking it: how it becomes
 * the rootfs of a unified image. Each member is written with a pax header
 * carrying its new path (and, for a hard link, its new target: hard links
 * name members of the archive; symbolic links point inside the filesystem
 * and stay as they are), keeping the pax records it had (times, owners,
 * extended attributes such as file capabilities); its ustar header and its
 * content blocks are copied as they are. GNU long-name records are folded
 * into the pax header. The archive's end blocks are left to the caller.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { HangarError } from '../../shared/errors.js';
import { tarHeader, tarPadding } from '../images/tar-writer.js';
import { TOOLS, corruptError, toolComplaint, type Compression } from '../tarballs/compression.js';

const BLOCK = 512;
/** Types whose header is followed by no content, whatever the size field says (as tar-entries.ts). */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);
/** Extension records larger than this are refused (the inspector's limit too). */
const EXTENSION_LIMIT = 1024 * 1024;

/** Reads a byte stream in exact amounts. */
class ByteReader {
  private buffered: Buffer[] = [];
  private size = 0;
  private ended = false;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async fill(bytes: number): Promise<boolean> {
    while (this.size < bytes && !this.ended) {
      const next = await this.iterator.next();
      if (next.done === true) this.ended = true;
      else if (next.value.length > 0) {
        this.buffered.push(next.value);
        this.size += next.value.length;
      }
    }
    return this.size >= bytes;
  }

  private take(bytes: number): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    if (all === undefined) return Buffer.alloc(0);
    const taken = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return taken;
  }

  /** Exactly `bytes` bytes, or undefined at the end of the stream. */
  async read(bytes: number): Promise<Buffer | undefined> {
    if (!(await this.fill(bytes))) return undefined;
    return this.take(bytes);
  }

  /** Reads to the end, dropping the bytes (the decompressor then checks the stream's trailer). */
  async drain(): Promise<void> {
    this.buffered = [];
    this.size = 0;
    while (!this.ended) {
      const next = await this.iterator.next();
      if (next.done === true) this.ended = true;
    }
  }

  /** Stops reading: the source's own clean-up runs (a decompressor process, a file). */
  async close(): Promise<void> {
    if (!this.ended) await this.iterator.return?.();
    this.ended = true;
  }

  /** `bytes` bytes as they come, without holding them all. */
  async *pass(bytes: number, truncated: () => Error): AsyncGenerator<Buffer> {
    let left = bytes;
    while (left > 0) {
      if (this.size === 0 && !(await this.fill(1))) throw truncated();
      const piece = this.take(Math.min(left, this.size));
      left -= piece.length;
      yield piece;
    }
  }
}

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
}

function sizeOf(header: Buffer): number {
  const first = header[124] ?? 0;
  if ((first & 0x80) !== 0) {
    let size = 0n;
    for (let at = 125; at < 136; at++) size = (size << 8n) | BigInt(header[at] ?? 0);
    return Number(size);
  }
  const text = field(header, 124, 12).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** One pax record, its length counting its own digits. */
function paxRecord(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
  let length = body.length + String(body.length).length;
  while (String(length).length + body.length !== length)
    length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

/** A pax header's records, each kept whole (values may be binary), by key. */
function paxRecords(data: Buffer, name: string): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = space < 0 ? NaN : Number(data.subarray(at, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) {
      // Trailing NUL padding ends the records.
      if (data.subarray(at).every((byte) => byte === 0)) break;
      throw new HangarError('invalid-input', `${name} has a malformed pax header.`);
    }
    const record = data.subarray(at, at + length);
    const equals = record.indexOf(0x3d);
    if (equals < 0) throw new HangarError('invalid-input', `${name} has a malformed pax record.`);
    records.set(record.subarray(space - at + 1, equals).toString('utf8'), record);
    at += length;
  }
  return records;
}

function recordValue(record: Buffer | undefined): string | undefined {
  if (record === undefined) return undefined;
  const equals = record.indexOf(0x3d);
  return record.subarray(equals + 1, record.length - 1).toString('utf8');
}

/** The name under `folder`: `./etc/` → `rootfs/etc/`, `./` → `rootfs/`. */
function under(folder: string, name: string): string {
  let rest = name;
  while (rest.startsWith('./')) rest = rest.slice(2);
  if (rest === '.' || rest === '') return `${folder}/`;
  return `${folder}/${rest}`;
}

/** A copy of the header with its name (and link) fields set to what fits, and its checksum redone. */
function renamed(header: Buffer, path: string, link: string | undefined): Buffer {
  const copy = Buffer.from(header);
  const fit = (text: string) => {
    let short = text;
    while (Buffer.byteLength(short) > 100) short = short.slice(0, -1);
    return short;
  };
  copy.fill(0, 0, 100);
  copy.write(fit(path), 0, 100, 'utf8');
  if (isPosix(copy)) copy.fill(0, 345, 500);
  if (link !== undefined) {
    copy.fill(0, 157, 257);
    copy.write(fit(link), 157, 100, 'utf8');
  }
  copy.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of copy) sum += byte;
  copy.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return copy;
}

/** The members of a tar stream, moved under `folder` (no end blocks: the caller ends the archive). */
export async function* rebaseTar(
  source: AsyncIterable<Buffer>,
  folder: string,
  name: string,
): AsyncGenerator<Buffer> {
  const reader = new ByteReader(source);
  try {
    yield* members(reader, folder, name);
    // What follows the end blocks is read too, so a corrupt or truncated compressed stream is
    // found (its trailer is checked at its end).
    await reader.drain();
  } finally {
    await reader.close();
  }
}

async function* members(reader: ByteReader, folder: string, name: string): AsyncGenerator<Buffer> {
  const truncated = () =>
    new HangarError('invalid-input', `${name} ends in the middle of a member: it is truncated.`);
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  const extension = async (header: Buffer): Promise<Buffer> => {
    const size = sizeOf(header);
    if (size > EXTENSION_LIMIT)
      throw new HangarError('invalid-input', `${name} has a tar extension record over 1 MiB.`);
    const data = await reader.read(size + tarPadding(size));
    if (data === undefined) throw truncated();
    return data.subarray(0, size);
  };
  for (;;) {
    const header = await reader.read(BLOCK);
    // The end: a zero block (or none at all).
    if (header === undefined || header.every((byte) => byte === 0)) return;
    const type = String.fromCharCode(header[156] ?? 0x30);
    if (type === 'x') {
      pax = new Map([...pax, ...paxRecords(await extension(header), name)]);
      continue;
    }
    if (type === 'L' || type === 'K') {
      const text = field(await extension(header), 0, EXTENSION_LIMIT);
      if (type === 'L') longName = text;
      else longLink = text;
      continue;
    }
    if (type === 'g') {
      // Global records apply to the members that follow, as they are.
      yield header;
      yield* reader.pass(sizeOf(header) + tarPadding(sizeOf(header)), truncated);
      continue;
    }
    if (type === 'S')
      // Their sparse maps live where a POSIX header keeps its name prefix.
      throw new HangarError(
        'invalid-input',
        `${name} has GNU sparse members, which Hangar does not move: repack it without --sparse.`,
      );
    const ustarName = field(header, 0, 100);
    const prefix = isPosix(header) ? field(header, 345, 155) : '';
    const path =
      recordValue(pax.get('path')) ??
      longName ??
      (prefix === '' ? ustarName : `${prefix}/${ustarName}`);
    const target = recordValue(pax.get('linkpath')) ?? longLink ?? field(header, 157, 100);
    const newPath = under(folder, path);
    // A hard link names a member of the archive, which moved too; a symlink's target did not.
    const newLink = type === '1' ? under(folder, target) : target;
    const records = [...pax]
      .filter(([key]) => key !== 'path' && key !== 'linkpath')
      .map(([, record]) => record);
    records.push(paxRecord('path', newPath));
    if (type === '1' || type === '2') records.push(paxRecord('linkpath', newLink));
    const data = Buffer.concat(records);
    const mtime = parseInt(field(header, 136, 12).trim() || '0', 8) || 0;
    yield tarHeader('PaxHeader', data.length, mtime, { type: 'x' });
    yield data;
    yield Buffer.alloc(tarPadding(data.length));
    yield renamed(header, newPath, type === '1' || type === '2' ? newLink : undefined);
    // A pax size (members past 8 GiB) wins over the header's.
    const paxSize = recordValue(pax.get('size'));
    const size = HEADER_ONLY.has(type)
      ? 0
      : paxSize === undefined
        ? sizeOf(header)
        : Number(paxSize);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new HangarError('invalid-input', `${name} has a member with a bad size (${path}).`);
    yield* reader.pass(size + tarPadding(size), truncated);
    pax = new Map();
    longName = undefined;
    longLink = undefined;
  }
}

/** POSIX ustar ("ustar\0"), whose bytes 345–500 are a name prefix; GNU's "ustar  " keeps other fields there. */
function isPosix(header: Buffer): boolean {
  return header.subarray(257, 263).equals(Buffer.from('ustar\0', 'latin1'));
}

/**
 * A file's bytes, decompressed as they are read: the decompressor's output is iterated, so it
 * runs only as fast as the reader takes it (a highly compressible member never piles up).
 */
export async function* decompressedFile(
  path: string,
  compression: Compression,
  name: string,
): AsyncGenerator<Buffer> {
  if (compression === 'none') {
    yield* createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
    return;
  }
  if (compression === 'gzip') {
    const input = createReadStream(path, { highWaterMark: 1024 * 1024 });
    const gunzip = createGunzip({ chunkSize: 1024 * 1024 });
    input.on('error', (error) => gunzip.destroy(error));
    input.pipe(gunzip);
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (error) {
      throw corruptError('gzip', name, error instanceof Error ? error.message : String(error));
    } finally {
      input.destroy();
      gunzip.destroy();
    }
    return;
  }
  const tool = TOOLS[compression];
  const file = await open(path, 'r');
  const child = spawn(tool.command, tool.args, {
    stdio: [file.fd, 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  const { stdout, stderr: errors } = child;
  if (stdout === null || errors === null) throw new Error(`${tool.command} started without pipes.`);
  let stderr = '';
  errors.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  try {
    for await (const chunk of stdout) yield chunk as Buffer;
    const code = await exited;
    if (code !== 0)
      throw corruptError(compression, name, toolComplaint(stderr) ?? `exit status ${String(code)}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new HangarError(
        'invalid-input',
        `${name} is ${compression}-compressed, and reading it needs the ${tool.command} command: install the ${tool.pkg} package.`,
      );
    throw error;
  } finally {
    if (child.exitCode === null) child.kill();
    await file.close();
  }
}
