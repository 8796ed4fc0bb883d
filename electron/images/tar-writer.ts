/**
 * Just enough of tar (POSIX ustar) to wrap a split image's two files into one
 * download: a header per file, zero padding to 512 bytes, two zero blocks at
 * the end. Sizes past ustar's 8 GiB use GNU's base-256 form, which GNU tar,
 * bsdtar and Python's tarfile read.
 */
const BLOCK = 512;

export function tarPadding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

function octal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}

export function tarHeader(name: string, size: number, mtime: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  octal(header, 100, 8, 0o644);
  octal(header, 108, 8, 0);
  octal(header, 116, 8, 0);
  if (size < 8 ** 11) octal(header, 124, 12, size);
  else {
    // Base-256: the high bit of the first byte set, the size big-endian in the rest.
    header[124] = 0x80;
    let rest = BigInt(size);
    for (let at = 135; at > 124; at--) {
      header[at] = Number(rest & 0xffn);
      rest >>= 8n;
    }
  }
  octal(header, 136, 12, Math.max(0, mtime));
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  // The checksum counts its own field as spaces.
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}
