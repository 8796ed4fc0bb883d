/**
 * A streaming tar header parser, push-style: feed it the (decompressed)
 * bytes in chunks of any size and it announces each entry to a visitor.
 * It understands ustar (with its name prefix), the old GNU format, GNU long
 * names and link names (`././@LongLink`, types L and K), pax extended headers
 * (type x: `path`, `linkpath`, `size`, and `GNU.sparse.name`) and skips pax
 * global headers (type g). File contents are skipped without being copied,
 * except the bytes the visitor asks to keep (metadata.yaml), so memory stays
 * bounded whatever the size of the tarball.
 *
 * Written here rather than taken from npm: it is small, has no stream
 * machinery of its own (the inspector drives it), and its errors are the
 * user-facing HangarErrors the inspector needs.
 */
import { HangarError } from '../../shared/errors.js';

export type TarEntryType =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'hardlink'
  | 'character-device'
  | 'block-device'
  | 'fifo'
  | 'other';

export interface TarEntry {
  /** The name as stored (after long-name and pax overrides), not normalised. */
  path: string;
  type: TarEntryType;
  /** The raw type flag, e.g. '0', '5', 'S'. */
  typeFlag: string;
  /** For links: the target as stored. Empty otherwise. */
  linkTarget: string;
  /** Bytes of content that follow the header (0 for links, directories, devices). */
  size: number;
}

export interface TarVisitor {
  /**
   * Called for each entry, in order. Returns how many bytes of its content
   * to keep (0 to skip them). Throw (a HangarError) to refuse the tarball.
   */
  entry: (entry: TarEntry) => number;
  /** The kept bytes of the entry just announced, once all of them arrived. */
  content?: (entry: TarEntry, data: Buffer) => void;
}

const BLOCK = 512;
/** GNU long names and pax headers larger than this are refused (GNU tar's own limit is similar). */
const EXTENSION_LIMIT = 1024 * 1024;

/** Type flags whose header is followed by no content, whatever the size field says (as Go's archive/tar, which LXD uses). */
export const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
};

/** A NUL-terminated text field of a header. */
export function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

/** An octal number field, or GNU's base-256 form (high bit set) for values over 8 GiB. */
export function numeric(block: Buffer, start: number, length: number): number | undefined {
  const field = block.subarray(start, start + length);
  const first = field[0] ?? 0;
  if (first & 0x80) {
    if (first === 0xff) return undefined; // negative
    let value = first & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const digits = cString(block, start, length).trim();
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits)) return undefined;
  return parseInt(digits, 8);
}

function checksumMatches(block: Buffer): boolean {
  const stored = numeric(block, 148, 8);
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte >= 0x80 ? byte - 0x100 : byte;
  }
  // Some old tars summed signed bytes; accept both, as GNU tar does.
  return stored === unsigned || stored === signed;
}

/** Records of a pax extended header: "<length> <key>=<value>\n", repeated. */
function paxRecords(data: Buffer): Map<string, string> | undefined {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    // Trailing NUL padding is tolerated.
    if (data[at] === 0) break;
    const space = data.indexOf(0x20, at);
    if (space < 0 || space - at > 20) return undefined;
    const lengthText = data.subarray(at, space).toString('latin1');
    if (!/^[0-9]+$/.test(lengthText)) return undefined;
    const length = Number(lengthText);
    const end = at + length;
    if (length <= space - at + 1 || end > data.length || data[end - 1] !== 0x0a) return undefined;
    const record = data.subarray(space + 1, end - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals <= 0) return undefined;
    records.set(record.slice(0, equals), record.slice(equals + 1));
    at = end;
  }
  return records;
}

type State =
  | { kind: 'header' }
  | {
      kind: 'content';
      entry: TarEntry;
      remaining: number;
      padding: number;
      keep: number;
      kept: Buffer[];
    }
  | {
      kind: 'extension';
      flag: 'L' | 'K' | 'x' | 'g';
      remaining: number;
      padding: number;
      chunks: Buffer[];
    }
  | { kind: 'padding'; remaining: number }
  | { kind: 'ended' };

export interface TarParserOptions {
  /** The file's name, for messages. */
  name: string;
  /** How the file is compressed ('none' for a plain tar), for messages. */
  compression: string;
}

export class TarParser {
  /** Entries announced so far (extension headers not counted). */
  entries = 0;
  /** Decompressed bytes seen so far. */
  offset = 0;
  private state: State = { kind: 'header' };
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private overrides: { path?: string; linkTarget?: string; size?: number } = {};

  constructor(
    private readonly visitor: TarVisitor,
    private readonly options: TarParserOptions,
  ) {}

  /** True once the end-of-archive marker was read. */
  get ended(): boolean {
    return this.state.kind === 'ended';
  }

  private invalid(message: string): HangarError {
    return new HangarError('invalid-image', message);
  }

  private notATar(detail: string): HangarError {
    const { name, compression } = this.options;
    if (this.entries === 0 && this.offset <= BLOCK)
      return this.invalid(
        compression === 'none'
          ? `${name} is not a tarball (${detail}).`
          : `${name} is ${compression}-compressed, but what it contains is not a tarball (${detail}).`,
      );
    return this.invalid(
      `${name} is a damaged tarball: ${detail} after ${this.entries} ${this.entries === 1 ? 'entry' : 'entries'}.`,
    );
  }

  /** Feeds bytes; throws a HangarError at the first thing that is not a valid tar. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const state = this.state;
      switch (state.kind) {
        case 'ended':
          // Zero blocks and whatever padding follow the end-of-archive marker.
          this.offset += chunk.length - at;
          return;
        case 'header': {
          const take = Math.min(BLOCK - this.headerFill, chunk.length - at);
          chunk.copy(this.header, this.headerFill, at, at + take);
          this.headerFill += take;
          this.offset += take;
          at += take;
          if (this.headerFill === BLOCK) {
            this.headerFill = 0;
            this.readHeader();
          }
          break;
        }
        case 'padding': {
          const take = Math.min(state.remaining, chunk.length - at);
          state.remaining -= take;
          this.offset += take;
          at += take;
          if (state.remaining === 0) this.state = { kind: 'header' };
          break;
        }
        case 'extension': {
          const take = Math.min(state.remaining, chunk.length - at);
          // Copied: the caller may reuse its buffer.
          state.chunks.push(Buffer.from(chunk.subarray(at, at + take)));
          state.remaining -= take;
          this.offset += take;
          at += take;
          if (state.remaining === 0) {
            this.applyExtension(state.flag, Buffer.concat(state.chunks));
            this.state =
              state.padding > 0
                ? { kind: 'padding', remaining: state.padding }
                : { kind: 'header' };
          }
          break;
        }
        case 'content': {
          const take = Math.min(state.remaining, chunk.length - at);
          if (state.keep > 0) {
            const keep = Math.min(take, state.keep);
            state.kept.push(Buffer.from(chunk.subarray(at, at + keep)));
            state.keep -= keep;
          }
          state.remaining -= take;
          this.offset += take;
          at += take;
          if (state.remaining === 0) this.finishContent(state);
          break;
        }
      }
    }
  }

  /** No more bytes: throws when the tarball stopped in the middle. */
  end(): void {
    const { name, compression } = this.options;
    const state = this.state;
    // GNU tar and Go accept an archive whose end marker is missing when it stops between entries.
    if (state.kind === 'ended' || (state.kind === 'header' && this.headerFill === 0)) {
      if (this.entries === 0)
        throw this.invalid(
          this.offset === 0 && compression !== 'none'
            ? `${name} is ${compression}-compressed but contains nothing.`
            : `${name} is an empty tarball.`,
        );
      return;
    }
    throw this.invalid(
      compression === 'none'
        ? `${name} is truncated: the tarball ends in the middle of ${this.where()}.`
        : `${name} is ${compression}-compressed but truncated: its tarball ends in the middle of ${this.where()}.`,
    );
  }

  private where(): string {
    return this.state.kind === 'content' ? this.state.entry.path : 'a header';
  }

  private finishContent(state: Extract<State, { kind: 'content' }>): void {
    if (state.kept.length > 0) this.visitor.content?.(state.entry, Buffer.concat(state.kept));
    this.state =
      state.padding > 0 ? { kind: 'padding', remaining: state.padding } : { kind: 'header' };
  }

  private readHeader(): void {
    const block = this.header;
    if (block.every((byte) => byte === 0)) {
      this.state = { kind: 'ended' };
      return;
    }
    if (!checksumMatches(block)) throw this.notATar('a header checksum does not match');
    const flag = String.fromCharCode(block[156] ?? 0);
    const headerSize = numeric(block, 124, 12);
    if (headerSize === undefined) throw this.notATar('a header has an invalid size field');
    if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
      if (headerSize > EXTENSION_LIMIT)
        throw this.invalid(
          `${this.options.name} has a tar extension header of ${headerSize} bytes; Hangar reads at most 1 MiB.`,
        );
      const padding = (BLOCK - (headerSize % BLOCK)) % BLOCK;
      if (headerSize === 0) {
        this.applyExtension(flag, Buffer.alloc(0));
        return;
      }
      this.state = { kind: 'extension', flag, remaining: headerSize, padding, chunks: [] };
      return;
    }
    const magic = block.subarray(257, 263).toString('latin1');
    // POSIX ustar has a name prefix at 345; the old GNU format ("ustar  ") keeps other fields there.
    const prefix = magic === 'ustar\0' ? cString(block, 345, 155) : '';
    const name = cString(block, 0, 100);
    const size = this.overrides.size ?? headerSize;
    const entry: TarEntry = {
      path: this.overrides.path ?? (prefix === '' ? name : `${prefix}/${name}`),
      type: TYPES[flag] ?? 'other',
      typeFlag: flag,
      linkTarget: this.overrides.linkTarget ?? cString(block, 157, 100),
      size: HEADER_ONLY.has(flag) ? 0 : size,
    };
    if (entry.type !== 'symlink' && entry.type !== 'hardlink') entry.linkTarget = '';
    this.overrides = {};
    this.entries += 1;
    const keep = Math.min(this.visitor.entry(entry), entry.size);
    const padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    const state: Extract<State, { kind: 'content' }> = {
      kind: 'content',
      entry,
      remaining: entry.size,
      padding,
      keep,
      kept: [],
    };
    if (entry.size === 0) this.finishContent(state);
    else this.state = state;
  }

  private applyExtension(flag: 'L' | 'K' | 'x' | 'g', data: Buffer): void {
    if (flag === 'g') return; // Global pax headers carry defaults (times, charset) Hangar has no use for.
    if (flag === 'L' || flag === 'K') {
      const end = data.indexOf(0);
      const value = data.subarray(0, end < 0 ? data.length : end).toString('utf8');
      if (flag === 'L') this.overrides.path = value;
      else this.overrides.linkTarget = value;
      return;
    }
    const records = paxRecords(data);
    if (records === undefined) throw this.notATar('a pax header is malformed');
    const path = records.get('GNU.sparse.name') ?? records.get('path');
    if (path !== undefined) this.overrides.path = path;
    const linkpath = records.get('linkpath');
    if (linkpath !== undefined) this.overrides.linkTarget = linkpath;
    const size = records.get('size');
    if (size !== undefined) {
      if (!/^[0-9]+$/.test(size) || !Number.isSafeInteger(Number(size)))
        throw this.notATar(`a pax header has an invalid size (${size})`);
      this.overrides.size = Number(size);
    }
  }
}
