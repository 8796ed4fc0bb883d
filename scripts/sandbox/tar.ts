/**
 * A minimal ustar writer for fixture images: same input, same bytes, so
 * fixture fingerprints are stable across runs and machines.
 */
export interface TarEntry {
  path: string;
  /** Directories end without a slash; content absent means a directory. */
  content?: string | Buffer;
  mode?: number;
}

const BLOCK = 512;
const MTIME = 1_700_000_000;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(path: string, size: number, mode: number, type: '0' | '5'): Buffer {
  const block = Buffer.alloc(BLOCK);
  const name = Buffer.from(path);
  if (name.length > 100) throw new Error(`tar path too long for a fixture: ${path}`);
  name.copy(block, 0);
  block.write(octal(mode, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii'); // uid
  block.write(octal(0, 8), 116, 'ascii'); // gid
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(MTIME, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii'); // checksum placeholder
  block.write(type, 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  block.write('root', 265, 'ascii');
  block.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'ascii');
  return block;
}

export function tar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.content === undefined) {
      parts.push(header(`${entry.path}/`, 0, entry.mode ?? 0o755, '5'));
      continue;
    }
    const data = Buffer.from(entry.content);
    parts.push(header(entry.path, data.length, entry.mode ?? 0o644, '0'), data);
    const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
    parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
