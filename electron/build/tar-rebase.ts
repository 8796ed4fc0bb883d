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
import { HangarError } from '../../shared/errors.js';
import { tarHeader, tarPadding, writeChecksum } from '../images/tar-writer.js';
import { HEADER_ONLY, cString, numeric } from '../tarballs/tar-entries.js';

const BLOCK = 512;
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

/** A numeric field, or an error naming the member (a negative or non-octal value). */
function number(header: Buffer, start: number, length: number, name: string): number {
  const value = numeric(header, start, length);
  if (value === undefined)
    throw new HangarError('invalid-input', `${name} has a tar header with a bad number field.`);
  return value;
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
  writeChecksum(copy);
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
    const size = number(header, 124, 12, name);
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
      const text = cString(await extension(header), 0, EXTENSION_LIMIT);
      if (type === 'L') longName = text;
      else longLink = text;
      continue;
    }
    if (type === 'g') {
      // Global records apply to the members that follow, as they are.
      const size = number(header, 124, 12, name);
      yield header;
      yield* reader.pass(size + tarPadding(size), truncated);
      continue;
    }
    if (type === 'S')
      // Their sparse maps live where a POSIX header keeps its name prefix.
      throw new HangarError(
        'invalid-input',
        `${name} has GNU sparse members, which Hangar does not move: repack it without --sparse.`,
      );
    const ustarName = cString(header, 0, 100);
    const prefix = isPosix(header) ? cString(header, 345, 155) : '';
    const path =
      recordValue(pax.get('path')) ??
      longName ??
      (prefix === '' ? ustarName : `${prefix}/${ustarName}`);
    const target = recordValue(pax.get('linkpath')) ?? longLink ?? cString(header, 157, 100);
    const newPath = under(folder, path);
    // A hard link names a member of the archive, which moved too; a symlink's target did not.
    const newLink = type === '1' ? under(folder, target) : target;
    const records = [...pax]
      .filter(([key]) => key !== 'path' && key !== 'linkpath')
      .map(([, record]) => record);
    records.push(paxRecord('path', newPath));
    if (type === '1' || type === '2') records.push(paxRecord('linkpath', newLink));
    const data = Buffer.concat(records);
    const mtime = number(header, 136, 12, name);
    yield tarHeader('PaxHeader', data.length, mtime, { type: 'x' });
    yield data;
    yield Buffer.alloc(tarPadding(data.length));
    yield renamed(header, newPath, type === '1' || type === '2' ? newLink : undefined);
    // A pax size (members past 8 GiB) wins over the header's.
    const paxSize = recordValue(pax.get('size'));
    const size = HEADER_ONLY.has(type)
      ? 0
      : paxSize === undefined
        ? number(header, 124, 12, name)
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
