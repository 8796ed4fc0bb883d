/**
 * Which of two files is a split image's metadata tarball, and which its
 * rootfs: `lxc image import <metadata> <rootfs>` takes them in that order, and
 * LXD reads the first part of the upload as the metadata. Files are dropped in
 * no order, so Hangar decides by content (the metadata tarball has
 * metadata.yaml and templates/ at its top; a rootfs has bin/, etc/…, or is a
 * squashfs or qcow2 image) and by size only when the content cannot tell (the
 * metadata is usually the smaller). Pure: the main process feeds it the
 * entries its tar parser reads, the renderer the ones it can read in the
 * browser (plain and gzip tarballs).
 */

export type SplitRole = 'metadata' | 'rootfs';

/** Top-level names that say "this is a root filesystem". */
const ROOTFS_TOP = new Set(['bin', 'etc', 'usr', 'lib', 'sbin', 'var', 'dev', 'root', 'home']);

/** What one tar entry's path says of its tarball, if anything. */
export function entryRole(path: string): SplitRole | undefined {
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  const [top] = segments;
  if (top === undefined) return undefined;
  if ((top === 'metadata.yaml' && segments.length === 1) || top === 'templates') return 'metadata';
  if (ROOTFS_TOP.has(top)) return 'rootfs';
  return undefined;
}

/**
 * What a tarball is, from its first entries: the first entry that tells wins;
 * a tarball read to its end with nothing that says "metadata" is not a
 * metadata tarball. `undefined`: the entries read cannot tell.
 */
export function roleFromEntries(paths: Iterable<string>, complete: boolean): SplitRole | undefined {
  for (const path of paths) {
    const role = entryRole(path);
    if (role !== undefined) return role;
  }
  return complete ? 'rootfs' : undefined;
}

export interface SplitCandidate {
  /** What its content says, when it could be read. */
  role: SplitRole | undefined;
  size: number;
}

/**
 * Which of two files is the metadata (0 or 1), and whether the content or
 * the size decided. One file that is the metadata by content, or the other
 * one being a rootfs by content, decides; otherwise the smaller one is the
 * metadata (the first of two of the same size).
 */
export function splitOrder(
  a: SplitCandidate,
  b: SplitCandidate,
): { metadata: 0 | 1; by: 'content' | 'size' } {
  const aIsMetadata = a.role === 'metadata' || (a.role === undefined && b.role === 'rootfs');
  const bIsMetadata = b.role === 'metadata' || (b.role === undefined && a.role === 'rootfs');
  if (aIsMetadata !== bIsMetadata) return { metadata: aIsMetadata ? 0 : 1, by: 'content' };
  return { metadata: b.size < a.size ? 1 : 0, by: 'size' };
}

/** The NUL-terminated text of a tar header field. */
function field(block: Uint8Array, start: number, length: number): string {
  const bytes = block.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/**
 * The paths of the first entries of a (decompressed) tarball's first bytes,
 * for a quick look only (ustar names with their prefix, GNU long names, pax
 * `path`); `complete` when its end-of-archive block was reached. The main
 * process reads tarballs with its full parser; this is for the renderer.
 */
export function tarHeadPaths(
  data: Uint8Array,
  maxEntries = 256,
): { paths: string[]; complete: boolean } {
  const paths: string[] = [];
  let next: string | undefined;
  let at = 0;
  while (at + 512 <= data.length && paths.length < maxEntries) {
    const block = data.subarray(at, at + 512);
    if (block.every((byte) => byte === 0)) return { paths, complete: true };
    const size = Number.parseInt(field(block, 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) break;
    const type = String.fromCharCode(block[156] ?? 0);
    const content = data.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      next = field(content, 0, content.length);
      continue;
    }
    if (type === 'x') {
      const record = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(content));
      if (record?.[1] !== undefined) next = record[1];
      continue;
    }
    if (type === 'g' || type === 'K') continue;
    // POSIX ustar ("ustar\0") has a name prefix; GNU's old format ("ustar ") keeps times there.
    const prefix = field(block, 257, 6) === 'ustar' ? field(block, 345, 155) : '';
    paths.push(
      next ?? (prefix === '' ? field(block, 0, 100) : `${prefix}/${field(block, 0, 100)}`),
    );
    next = undefined;
  }
  return { paths, complete: false };
}
