/**
 * What an image file is, from its first bytes, and how to decompress it.
 * gzip is decoded in-process; xz, lzma, bzip2 and zstd by the system tools
 * LXD itself shells out to (they are installed wherever LXD is), so no
 * native module has to be built for Electron.
 */
import { spawn } from 'node:child_process';
import { Duplex, PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { HangarError } from '../../shared/errors.js';

export type Compression = 'gzip' | 'bzip2' | 'xz' | 'lzma' | 'zstd' | 'none';
export type FileFormat =
  { kind: 'tarball'; compression: Compression } | { kind: 'squashfs' } | { kind: 'qcow2' };

const startsWith = (head: Buffer, bytes: number[]) =>
  head.length >= bytes.length && bytes.every((byte, index) => head[index] === byte);

/** From magic bytes (the first 512 are enough); undefined when it is none of LXD's formats. */
export function detectFormat(head: Buffer): FileFormat | undefined {
  if (startsWith(head, [0x1f, 0x8b])) return { kind: 'tarball', compression: 'gzip' };
  if (startsWith(head, [0x42, 0x5a, 0x68])) return { kind: 'tarball', compression: 'bzip2' };
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))
    return { kind: 'tarball', compression: 'xz' };
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return { kind: 'tarball', compression: 'zstd' };
  if (startsWith(head, [0x5d, 0x00, 0x00])) return { kind: 'tarball', compression: 'lzma' };
  if (startsWith(head, [0x68, 0x73, 0x71, 0x73])) return { kind: 'squashfs' };
  if (startsWith(head, [0x51, 0x46, 0x49, 0xfb])) return { kind: 'qcow2' };
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar')
    return { kind: 'tarball', compression: 'none' };
  return undefined;
}

const TOOLS: Record<
  Exclude<Compression, 'gzip' | 'none'>,
  { command: string; args: string[]; pkg: string }
> = {
  xz: { command: 'xz', args: ['-dc'], pkg: 'xz-utils' },
  lzma: { command: 'xz', args: ['--format=lzma', '-dc'], pkg: 'xz-utils' },
  bzip2: { command: 'bzip2', args: ['-dc'], pkg: 'bzip2' },
  zstd: { command: 'zstd', args: ['-dcq'], pkg: 'zstd' },
};

/** The error for a compressed stream that does not decode. */
export function corruptError(compression: Compression, name: string, detail: string): HangarError {
  return new HangarError(
    'invalid-image',
    `${name} is ${compression}-compressed but truncated or corrupt (${detail}).`,
  );
}

/** A stream that decompresses; undefined for an uncompressed file. */
export function decompressor(compression: Compression, name: string): Duplex | undefined {
  if (compression === 'none') return undefined;
  const corrupt = (detail: string) => corruptError(compression, name, detail);
  if (compression === 'gzip') return createGunzip();
  const tool = TOOLS[compression];
  const child = spawn(tool.command, tool.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // The output ends only once the tool said the input was whole: a truncated file
  // must read as corrupt, not as a short tarball.
  const output = new PassThrough();
  child.stdout.pipe(output, { end: false });
  const duplex = Duplex.from({ writable: child.stdin, readable: output });
  child.on('error', (error: NodeJS.ErrnoException) =>
    duplex.destroy(
      error.code === 'ENOENT'
        ? new HangarError(
            'invalid-image',
            `${name} is ${compression}-compressed and reading it needs the ${tool.command} command: install the ${tool.pkg} package.`,
          )
        : corrupt(error.message),
    ),
  );
  child.on('close', (code) => {
    if (code === 0) output.end();
    else duplex.destroy(corrupt(stderr.trim().split('\n').at(-1) ?? `exit ${String(code)}`));
  });
  // A destroyed reader (the file was refused) must not leave the tool running.
  duplex.on('close', () => child.kill());
  child.stdin.on('error', () => undefined);
  return duplex;
}
