/**
 * What an image file is, from its first bytes, and how to decompress it as a
 * stream.
 *
 * gzip is decoded in-process with node:zlib. xz, lzma, bzip2 and zstd are
 * decoded by the system tools (`xz -dc`, `bzip2 -dc`, `zstd -dc`, stdin to
 * stdout), because:
 * - LXD itself shells out to exactly these tools to read and unpack images
 *   (shared/archive.go DetectCompressionFile), so they are installed wherever
 *   LXD is, and Hangar accepts and refuses the same streams LXD does;
 * - they are the reference decoders, stream with bounded memory, run on
 *   another core, and report a truncated or corrupt stream by their exit
 *   status, so a cut-off file is never mistaken for a short one;
 * - the npm alternatives are either native modules to rebuild for each
 *   Electron (@napi-rs/lzma, @mongodb-js/zstd) or pure-JS decoders that are
 *   slow or decode whole buffers rather than streams.
 * A missing tool is reported by name with the Debian/Ubuntu package to install.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { HangarError } from '../../shared/errors.js';

export type Compression = 'gzip' | 'bzip2' | 'xz' | 'lzma' | 'zstd' | 'none';
export type FileFormat =
  { kind: 'tarball'; compression: Compression } | { kind: 'squashfs' } | { kind: 'qcow2' };

const startsWith = (head: Buffer, bytes: readonly number[], offset = 0) =>
  head.length >= offset + bytes.length &&
  bytes.every((byte, index) => head[offset + index] === byte);

/**
 * From magic bytes (the first 512 bytes are enough), in the spirit of LXD's
 * DetectCompressionFile; tar is recognised by "ustar" at offset 257.
 * undefined: none of the formats LXD reads.
 */
export function detectFormat(head: Buffer): FileFormat | undefined {
  if (startsWith(head, [0x1f, 0x8b])) return { kind: 'tarball', compression: 'gzip' };
  if (startsWith(head, [0x42, 0x5a, 0x68])) return { kind: 'tarball', compression: 'bzip2' }; // BZh
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))
    return { kind: 'tarball', compression: 'xz' };
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return { kind: 'tarball', compression: 'zstd' };
  if (startsWith(head, [0x68, 0x73, 0x71, 0x73])) return { kind: 'squashfs' }; // hsqs
  if (startsWith(head, [0x51, 0x46, 0x49, 0xfb])) return { kind: 'qcow2' }; // QFI\xfb
  // "ustar\0" (POSIX) and "ustar  " (old GNU) both start so.
  if (startsWith(head, [0x75, 0x73, 0x74, 0x61, 0x72], 257))
    return { kind: 'tarball', compression: 'none' };
  // lzma-alone has no real magic: LXD takes 5d 00 00 (the usual properties byte and dictionary size).
  if (startsWith(head, [0x5d, 0x00, 0x00])) return { kind: 'tarball', compression: 'lzma' };
  return undefined;
}

/** A short description of a format, for messages. */
export function describeFormat(format: FileFormat): string {
  if (format.kind === 'squashfs') return 'a squashfs filesystem';
  if (format.kind === 'qcow2') return 'a qcow2 disk image';
  return format.compression === 'none'
    ? 'an uncompressed tarball'
    : `a ${format.compression}-compressed tarball`;
}

type ToolCompression = Exclude<Compression, 'gzip' | 'none'>;

/** The commands that decompress what node:zlib does not (LXD uses the same tools). */
const TOOLS: Record<ToolCompression, { command: string; args: string[]; pkg: string }> = {
  // -Q: a warning (e.g. an integrity check type xz cannot verify) is not a failure.
  xz: { command: 'xz', args: ['-dcQ'], pkg: 'xz-utils' },
  lzma: { command: 'xz', args: ['--format=lzma', '-dcQ'], pkg: 'xz-utils' },
  bzip2: { command: 'bzip2', args: ['-dc'], pkg: 'bzip2' },
  zstd: { command: 'zstd', args: ['-dcq'], pkg: 'zstd' },
};

const TRUNCATED = /unexpected end|ends unexpectedly|premature end|truncated/i;

/** The error for a compressed stream that does not decode. */
export function corruptError(compression: Compression, name: string, detail: string): HangarError {
  const what = TRUNCATED.test(detail) ? 'truncated' : 'corrupt';
  return new HangarError(
    'invalid-image',
    `${name} is ${compression}-compressed but ${what} (${detail.replace(/[.;:\s]+$/, '')}).`,
  );
}

/** The first line of a tool's complaint, without its "xz: (stdin): " prefix. */
function toolComplaint(stderr: string): string | undefined {
  const line = stderr
    .split('\n')
    .map((text) => text.trim())
    .find((text) => text !== '');
  return line
    ?.replace(/^(xz|lzma|bzip2|zstd): (\(stdin\): )?/, '')
    .replace(/^\/\*stdin\*\\ : /, '');
}

/**
 * The first fatal error of a stream, and waits that stop at it. Unlike
 * Promise.race against a promise that stays pending, a settled wait keeps no
 * reference (Promise.race would keep every value it ever resolved with, e.g.
 * every chunk, for as long as the other promise is pending).
 */
export class Tripwire {
  private readonly listeners = new Set<(error: Error) => void>();
  private tripped: { error: Error } | undefined;

  /** The first error, if any. */
  get failure(): { error: Error } | undefined {
    return this.tripped;
  }

  /** Records the error (the first one wins) and rejects every pending wait with it. */
  trip(error: Error): void {
    if (this.tripped !== undefined) return;
    this.tripped = { error };
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener(error);
  }

  /** Settles as `promise` does, or rejects as soon as the wire is tripped. */
  race<T>(promise: Promise<T>): Promise<T> {
    const tripped = this.tripped;
    if (tripped !== undefined) {
      promise.catch(() => undefined);
      return Promise.reject(tripped.error);
    }
    return new Promise<T>((resolve, reject) => {
      this.listeners.add(reject);
      promise.then(
        (value) => {
          this.listeners.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.listeners.delete(reject);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}

/** Decompresses a stream pushed into it; the output goes to `onData` as it comes. */
export interface Decoder {
  /** Feeds compressed bytes; resolves when more may be written (backpressure), rejects once it failed. */
  write: (chunk: Buffer) => Promise<void>;
  /** No more input: resolves once all the output was delivered and the stream checked out whole. */
  end: () => Promise<void>;
  /** Stops decoding (kills the tool); no error follows. */
  destroy: () => void;
}

/** Resolves on `event`, or when the emitter closes or errors (the failure is reported elsewhere). */
function settled(emitter: EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      emitter.off(event, done);
      emitter.off('close', done);
      emitter.off('error', done);
      resolve();
    };
    emitter.on(event, done);
    emitter.on('close', done);
    emitter.on('error', done);
  });
}

function gzipDecoder(
  name: string,
  onData: (chunk: Buffer) => void,
  onError: (error: HangarError) => void,
): Decoder {
  // 1 MiB output pieces: a quarter less inflate time than 64 KiB ones (fewer round trips to the thread pool).
  const gunzip = createGunzip({ chunkSize: 1024 * 1024 });
  const wire = new Tripwire();
  let destroyed = false;
  gunzip.on('error', (error: Error) => {
    if (destroyed || wire.failure !== undefined) return;
    const failure = corruptError('gzip', name, error.message);
    wire.trip(failure);
    onError(failure);
  });
  // Each piece is handed on in a tick of its own: zlib then starts inflating the next piece on
  // its thread before this one is parsed, rather than after (the two overlap).
  gunzip.on('data', (data: Buffer) => process.nextTick(onData, data));
  return {
    async write(chunk) {
      if (gunzip.destroyed) return wire.race(Promise.resolve());
      if (!gunzip.write(chunk)) await wire.race(settled(gunzip, 'drain'));
    },
    async end() {
      const ended = settled(gunzip, 'end');
      gunzip.end();
      await wire.race(ended);
      // 'close' (after an error) also ends the wait: a stream that failed is not whole.
      await wire.race(Promise.resolve());
    },
    destroy() {
      destroyed = true;
      gunzip.destroy();
    },
  };
}

/** A decompressing tool started: its pipes, and what it said on stderr so far. */
interface StartedTool<Input> {
  child: ChildProcess;
  stdin: Input;
  stdout: Readable;
  complaint: () => string;
}

/** The decompressing tool for `compression`, reading a pipe or a file descriptor. */
function startTool(compression: ToolCompression, stdin: 'pipe'): StartedTool<Writable>;
function startTool(compression: ToolCompression, stdin: number): StartedTool<null>;
function startTool(
  compression: ToolCompression,
  stdin: 'pipe' | number,
): StartedTool<Writable | null> {
  const tool = TOOLS[compression];
  const child = spawn(tool.command, tool.args, {
    stdio: [stdin, 'pipe', 'pipe'],
    // English complaints: they are quoted in the message.
    env: { ...process.env, LC_ALL: 'C' },
  });
  const { stdout, stderr: errors } = child;
  if (stdout === null || errors === null) throw new Error(`${tool.command} started without pipes.`);
  let stderr = '';
  errors.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  return { child, stdin: child.stdin, stdout, complaint: () => stderr };
}

/** Why a tool's stream failed, said for the user: a tool that is not installed, or a bad stream. */
function toolFailure(
  compression: ToolCompression,
  name: string,
  error: NodeJS.ErrnoException,
): HangarError {
  const tool = TOOLS[compression];
  return error.code === 'ENOENT'
    ? new HangarError(
        'invalid-image',
        `${name} is ${compression}-compressed, and reading it needs the ${tool.command} command, which is not installed: install the ${tool.pkg} package (LXD needs it for such images too).`,
      )
    : corruptError(compression, name, error.message);
}

function toolDecoder(
  compression: ToolCompression,
  name: string,
  onData: (chunk: Buffer) => void,
  onError: (error: HangarError) => void,
): Decoder {
  const { child, stdin, stdout, complaint } = startTool(compression, 'pipe');
  const wire = new Tripwire();
  let destroyed = false;
  const failWith = (failure: HangarError) => {
    if (destroyed || wire.failure !== undefined) return;
    wire.trip(failure);
    onError(failure);
  };
  stdout.on('data', onData);
  // The tool may stop reading (it found the stream corrupt): its exit status says why.
  stdin.on('error', () => undefined);
  let exitedCleanly!: () => void;
  const exited = new Promise<void>((resolve) => (exitedCleanly = resolve));
  child.on('error', (error: NodeJS.ErrnoException) =>
    failWith(toolFailure(compression, name, error)),
  );
  // 'close' comes after stdout ended: all the output was delivered.
  child.on('close', (code) => {
    if (code === 0) exitedCleanly();
    else
      failWith(
        corruptError(compression, name, toolComplaint(complaint()) ?? `exit status ${code}`),
      );
  });
  return {
    async write(chunk) {
      if (stdin.destroyed || stdin.writableEnded) return wire.race(Promise.resolve());
      if (!stdin.write(chunk)) await wire.race(settled(stdin, 'drain'));
    },
    async end() {
      if (!stdin.destroyed) stdin.end();
      await wire.race(exited);
    },
    destroy() {
      destroyed = true;
      stdin.destroy();
      stdout.destroy();
      child.kill();
    },
  };
}

/**
 * A decoder for a compressed tarball: its output goes to `onData`, and its
 * first error to `onError` (also when nothing is being written or awaited).
 */
export function createDecoder(
  compression: Exclude<Compression, 'none'>,
  name: string,
  onData: (chunk: Buffer) => void,
  onError: (error: HangarError) => void,
): Decoder {
  return compression === 'gzip'
    ? gzipDecoder(name, onData, onError)
    : toolDecoder(compression, name, onData, onError);
}

/**
 * A file's bytes, decompressed as they are read: the decompressor's output is iterated, so it
 * runs only as fast as the reader takes it (a highly compressible member never piles up).
 * The inspector pushes bytes through `createDecoder` instead: it sees them on their way to LXD.
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
  const file = await open(path, 'r');
  const { child, stdout, complaint } = startTool(compression, file.fd);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  try {
    for await (const chunk of stdout) yield chunk as Buffer;
    const code = await exited;
    if (code !== 0)
      throw corruptError(
        compression,
        name,
        toolComplaint(complaint()) ?? `exit status ${String(code)}`,
      );
  } catch (error) {
    throw error instanceof HangarError
      ? error
      : toolFailure(compression, name, error as NodeJS.ErrnoException);
  } finally {
    if (child.exitCode === null) child.kill();
    await file.close();
  }
}
