/**
 * A streaming tar reader: headers (ustar, GNU long names, pax) are parsed
 * and every entry is handed to a visitor; file contents are skipped except
 * the ones the visitor asks to keep (metadata.yaml). Nothing else is held.
 */
import { Writable } from 'node:stream';
import { HangarError } from '../../shared/errors.js';

export interface TarEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  linkTarget: string;
  size: number;
}

export interface TarVisitor {
  /** Returns how many bytes of the content to keep (0: skip it). Throw to refuse the tarball. */
  entry: (entry: TarEntry) => number;
  /** The kept content of the entry just announced. */
  content?: (entry: TarEntry, data: Buffer) => void;
}

const BLOCK = 512;

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  // GNU base-256 for sizes over 8 GiB.
  if ((field[0] ?? 0) & 0x80) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const digits = text(block, start, length).trim();
  return digits === '' ? 0 : parseInt(digits, 8);
}

function validChecksum(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  return sum === octal(block, 148, 8);
}

function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = parseInt(data.subarray(at, space).toString('ascii'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    at += length;
  }
  return records;
}

/** A Writable that parses the tar it is fed; it errors on a malformed or truncated tarball. */
export class TarReader extends Writable {
  private pending: Buffer = Buffer.alloc(0);
  private current:
    | { entry: TarEntry; remaining: number; padding: number; keep: number; kept: Buffer[] }
    | undefined;
  private meta:
    { kind: 'L' | 'K' | 'x'; remaining: number; padding: number; chunks: Buffer[] } | undefined;
  private overrides: { path?: string; linkTarget?: string; size?: number } = {};
  private ended = false;
  entries = 0;

  constructor(
    private readonly name: string,
    private readonly visitor: TarVisitor,
    /** How the tarball was compressed: a cut-off file reads as a corrupt compressed stream. */
    private readonly compression = 'none',
  ) {
    super();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ) {
    try {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      this.consume();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void) {
    if (
      this.current !== undefined ||
      this.meta !== undefined ||
      (!this.ended && this.pending.length > 0)
    )
      callback(
        new HangarError(
          'invalid-image',
          this.compression === 'none'
            ? `${this.name} is truncated: the tarball ends in the middle of a file.`
            : `${this.name} is ${this.compression}-compressed but truncated or corrupt: its tarball ends in the middle of a file.`,
        ),
      );
    else if (this.entries === 0)
      callback(new HangarError('invalid-image', `${this.name} is an empty tarball.`));
    else callback();
  }

  private consume(): void {
    for (;;) {
      if (this.ended) {
        this.pending = Buffer.alloc(0);
        return;
      }
      if (this.meta !== undefined) {
        const take = Math.min(this.meta.remaining, this.pending.length);
        this.meta.chunks.push(this.pending.subarray(0, take));
        this.meta.remaining -= take;
        this.pending = this.pending.subarray(take);
        if (this.meta.remaining > 0) return;
        if (!this.skipPadding(this.meta)) return;
        const data = Buffer.concat(this.meta.chunks);
        if (this.meta.kind === 'x') {
          const records = paxRecords(data);
          if (records.path !== undefined) this.overrides.path = records.path;
          if (records.linkpath !== undefined) this.overrides.linkTarget = records.linkpath;
          if (records.size !== undefined) this.overrides.size = Number(records.size);
        } else {
          const value = data.toString('utf8').replace(/\0+$/, '');
          if (this.meta.kind === 'L') this.overrides.path = value;
          else this.overrides.linkTarget = value;
        }
        this.meta = undefined;
        continue;
      }
      if (this.current !== undefined) {
        const take = Math.min(this.current.remaining, this.pending.length);
        if (this.current.keep > 0) {
          const keep = Math.min(take, this.current.keep);
          this.current.kept.push(this.pending.subarray(0, keep));
          this.current.keep -= keep;
        }
        this.current.remaining -= take;
        this.pending = this.pending.subarray(take);
        if (this.current.remaining > 0) return;
        if (!this.skipPadding(this.current)) return;
        if (this.current.kept.length > 0)
          this.visitor.content?.(this.current.entry, Buffer.concat(this.current.kept));
        this.current = undefined;
        continue;
      }
      if (this.pending.length < BLOCK) return;
      const block = this.pending.subarray(0, BLOCK);
      this.pending = this.pending.subarray(BLOCK);
      if (block.every((byte) => byte === 0)) {
        // The end-of-archive marker; what follows is padding.
        this.ended = true;
        continue;
      }
      if (!validChecksum(block))
        throw new HangarError(
          'invalid-image',
          `${this.name} is not a valid tarball (a header's checksum is wrong).`,
        );
      const typeFlag = String.fromCharCode(block[156] ?? 0x30);
      const size = octal(block, 124, 12);
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;
      if (typeFlag === 'L' || typeFlag === 'K' || typeFlag === 'x') {
        if (size > 1024 * 1024)
          throw new HangarError(
            'invalid-image',
            `${this.name} has a tar header extension larger than 1 MiB.`,
          );
        this.meta = { kind: typeFlag, remaining: size, padding, chunks: [] };
        continue;
      }
      if (typeFlag === 'g') {
        this.current = {
          entry: { path: '', type: 'other', linkTarget: '', size },
          remaining: size,
          padding,
          keep: 0,
          kept: [],
        };
        continue;
      }
      const prefix = text(block, 345, 155);
      const rawName = text(block, 0, 100);
      const entry: TarEntry = {
        path: this.overrides.path ?? (prefix === '' ? rawName : `${prefix}/${rawName}`),
        type:
          typeFlag === '0' || typeFlag === '\0' || typeFlag === '7'
            ? 'file'
            : typeFlag === '5'
              ? 'directory'
              : typeFlag === '2'
                ? 'symlink'
                : typeFlag === '1'
                  ? 'hardlink'
                  : 'other',
        linkTarget: this.overrides.linkTarget ?? text(block, 157, 100),
        size: this.overrides.size ?? size,
      };
      this.overrides = {};
      this.entries += 1;
      const keep = this.visitor.entry(entry);
      const contentSize = entry.type === 'file' || entry.type === 'other' ? entry.size : 0;
      this.current = {
        entry,
        remaining: contentSize,
        padding: (BLOCK - (contentSize % BLOCK)) % BLOCK,
        keep,
        kept: [],
      };
    }
  }

  /** Consumes the padding after a content; false while more bytes are needed. */
  private skipPadding(state: { padding: number }): boolean {
    const take = Math.min(state.padding, this.pending.length);
    state.padding -= take;
    this.pending = this.pending.subarray(take);
    return state.padding === 0;
  }
}
