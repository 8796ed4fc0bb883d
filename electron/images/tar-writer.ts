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

/** What else a header may say: a directory or symlink, its mode and owner (default: a 0644 file of root's). */
export interface TarEntryOptions {
  /** '0' file, '2' symlink, '5' directory ('L'/'K': GNU long name/link records, 'x': pax records). */
  type?: '0' | '2' | '5' | 'L' | 'K' | 'x';
  mode?: number;
  uid?: number;
  gid?: number;
  /** A symlink's target. */
  linkname?: string;
}

export function tarHeader(
  name: string,
  size: number,
  mtime: number,
  options: TarEntryOptions = {},
): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  const linkname = options.linkname ?? '';
  if (Buffer.byteLength(linkname) > 100) throw new Error(`tar link name too long: ${linkname}`);
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  octal(header, 100, 8, options.mode ?? 0o644);
  octal(header, 108, 8, options.uid ?? 0);
  octal(header, 116, 8, options.gid ?? 0);
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
  header.write(options.type ?? '0', 156, 1, 'ascii');
  header.write(linkname, 157, 100, 'utf8');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  writeChecksum(header);
  return header;
}

/** Sets a header's checksum (after any change to it); the sum counts its own field as spaces. */
export function writeChecksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
}

/** A GNU long name ('L') or long link ('K') record: a header and the NUL-terminated text, padded. */
function longRecord(type: 'L' | 'K', text: string): Buffer {
  const data = Buffer.from(`${text}\0`, 'utf8');
  return Buffer.concat([
    tarHeader('././@LongLink', data.length, 0, { type }),
    data,
    Buffer.alloc(tarPadding(data.length)),
  ]);
}

/**
 * The header(s) of one entry whatever the length of its name and link: names
 * past ustar's 100 bytes go in GNU long records first, which GNU tar (LXD's
 * unpacker) and bsdtar read.
 */
export function tarEntryHeader(
  name: string,
  size: number,
  mtime: number,
  options: TarEntryOptions = {},
): Buffer {
  const parts: Buffer[] = [];
  let shortName = name;
  let linkname = options.linkname;
  if (Buffer.byteLength(name) > 100) {
    parts.push(longRecord('L', name));
    shortName = name.slice(0, 99);
    while (Buffer.byteLength(shortName) > 100) shortName = shortName.slice(0, -1);
  }
  if (linkname !== undefined && Buffer.byteLength(linkname) > 100) {
    parts.push(longRecord('K', linkname));
    linkname = linkname.slice(0, 99);
    while (Buffer.byteLength(linkname) > 100) linkname = linkname.slice(0, -1);
  }
  parts.push(
    tarHeader(shortName, size, mtime, {
      ...options,
      ...(linkname === undefined ? {} : { linkname }),
    }),
  );
  return Buffer.concat(parts);
}
