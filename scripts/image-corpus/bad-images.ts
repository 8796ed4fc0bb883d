/**
 * Image files for the import tests (unit, integration and e2e), written to
 * disk with the real tools: GNU tar (in its gnu, pax and ustar formats),
 * gzip, xz, bzip2, zstd and mksquashfs. The few hostile tarballs GNU tar will
 * not write (a hard link out of the image, a pax or GNU long name with "..",
 * a file written through a link) are built header by header with `rawTar`.
 *
 * Each bad image carries the specific error Hangar gives for it; each good
 * one its fingerprint and what the inspector must read from it. Good images
 * hold a random file, so their fingerprints differ from run to run (LXD
 * refuses an image it already has).
 *
 * Tools: tar, gzip and xz are required; cases needing bzip2, zstd or
 * mksquashfs (squashfs-tools) are left out when the tool is missing.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { FileFormat } from '../../electron/tarballs/compression.js';

const run = promisify(execFile);

export interface BadImage {
  name: string;
  /** One file (unified) or two (split: the one with metadata.yaml is the metadata, else the smaller). */
  files: string[];
  /** The specific error; it also requires the message to name the file at fault. */
  expected: RegExp;
}

export interface GoodImage {
  name: string;
  /** One file (unified) or [metadata, rootfs]. */
  files: string[];
  /** sha256 of the file, or of the metadata then the rootfs. */
  fingerprint: string;
  architecture: string;
  /** Files under templates/ in the (metadata) tarball. */
  templates: string[];
  /** Each file's format, in the order of `files`. */
  formats: FileFormat[];
  /** metadata.yaml's description property (it holds the run's random id). */
  description: string;
}

export interface RawEntry {
  path: string;
  /** 0 file, 1 hard link, 2 symlink, 3/4 char/block device, 5 directory, 6 fifo; x/g pax, L/K GNU long name/link. */
  type?: '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x' | 'g' | 'L' | 'K';
  linkTarget?: string;
  content?: Buffer | string;
}

/** A ustar archive written header by header: nothing is sanitized, on purpose. */
export function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const content =
      entry.content === undefined
        ? Buffer.alloc(0)
        : Buffer.isBuffer(entry.content)
          ? entry.content
          : Buffer.from(entry.content);
    const header = Buffer.alloc(512);
    header.write(entry.path.slice(0, 100), 0, 'utf8');
    header.write(entry.type === '5' ? '0000755\0' : '0000644\0', 100, 'ascii');
    header.write('0000000\0', 108, 'ascii');
    header.write('0000000\0', 116, 'ascii');
    header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    header.write('14520601400\0', 136, 'ascii');
    header.write('        ', 148, 'ascii');
    header.write(entry.type ?? '0', 156, 'ascii');
    header.write((entry.linkTarget ?? '').slice(0, 100), 157, 'utf8');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(header, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A pax extended header carrying `path`, as tar writes one for a long or non-ASCII name. */
export function paxPath(path: string): RawEntry {
  const body = ` path=${path}\n`;
  let length = Buffer.byteLength(body);
  length += String(length + String(length).length).length;
  return { path: 'PaxHeader/entry', type: 'x', content: `${length}${body}` };
}

const sha256 = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `pattern`, in a message that also names `file`. */
const naming = (file: string, pattern: RegExp) =>
  new RegExp(`^(?=[\\s\\S]*${escape(basename(file))})[\\s\\S]*${pattern.source}`);

async function has(tool: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${tool}`]).then(
    () => true,
    () => false,
  );
}

/** The output folder and its scratch folder, and which optional tools this machine has. */
async function prepare(dir: string) {
  const scratch = join(dir, '.scratch');
  await mkdir(scratch, { recursive: true });
  const [withBzip2, withZstd, withSquashfs] = await Promise.all([
    has('bzip2'),
    has('zstd'),
    has('mksquashfs'),
  ]);
  return { scratch, withBzip2, withZstd, withSquashfs };
}

type Tree = Record<string, string | Buffer | { symlink: string } | { dir: true }>;

/** Writes files, directories and symlinks under `root`, with fixed times so tarballs are alike. */
async function writeTree(root: string, tree: Tree): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(tree)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    if (typeof content === 'string' || Buffer.isBuffer(content)) await writeFile(target, content);
    else if ('symlink' in content) await symlink(content.symlink, target);
    else await mkdir(target, { recursive: true });
  }
}

/** What GNU tar compresses with itself (with the real tools); lzma-alone goes through compress(). */
type TarCompression = 'gzip' | 'xz' | 'bzip2' | 'zstd' | 'none';
type Compressor = Exclude<TarCompression, 'none'> | 'lzma';
const TAR_FLAG: Record<TarCompression, string[]> = {
  gzip: ['--gzip'],
  xz: ['--xz'],
  bzip2: ['--bzip2'],
  zstd: ['--zstd'],
  none: [],
};

/** GNU tar over a tree: `tar -C root -c [--format] [compression] -f out members…`. */
async function tar(
  root: string,
  out: string,
  members: string[],
  options: {
    compression?: TarCompression;
    format?: 'gnu' | 'pax' | 'ustar';
    extra?: string[];
  } = {},
): Promise<Buffer> {
  await run('tar', [
    '-C',
    root,
    '-c',
    `--format=${options.format ?? 'gnu'}`,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    ...(options.extra ?? []),
    ...TAR_FLAG[options.compression ?? 'none'],
    '-f',
    out,
    ...members,
  ]);
  return readFile(out);
}

/** Compresses a buffer with the real tool (gzip -n, xz, bzip2, zstd). */
async function compress(data: Buffer, tool: Compressor, scratch: string): Promise<Buffer> {
  const path = join(scratch, `c-${randomBytes(4).toString('hex')}`);
  await writeFile(path, data);
  const commands: Record<typeof tool, [string, string[]]> = {
    gzip: ['gzip', ['-nf', path]],
    xz: ['xz', ['-f', path]],
    // lzma-alone, as `lzma` writes it (GNU tar's --lzma may write xz instead).
    lzma: ['xz', ['--format=lzma', '-f', path]],
    bzip2: ['bzip2', ['-f', path]],
    zstd: ['zstd', ['-qf', '--rm', path]],
  };
  const [command, args] = commands[tool];
  await run(command, args);
  const suffix = { gzip: '.gz', xz: '.xz', lzma: '.lzma', bzip2: '.bz2', zstd: '.zst' }[tool];
  const compressed = await readFile(`${path}${suffix}`);
  await rm(`${path}${suffix}`);
  return compressed;
}

const METADATA = 'architecture: x86_64\ncreation_date: 1700000000\n';

/** A tiny PNG picture (1×1), the kind of file people drop by mistake. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type, 'ascii'), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from('789c63000100000500010d0a2db4', 'hex')),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A minimal qcow2 v3 disk of 1 MiB (header, refcount table and block, L1 table), as `qemu-img create` writes. */
function qcow2(): Buffer {
  const cluster = 65536;
  const image = Buffer.alloc(4 * cluster);
  image.write('QFI\xfb', 0, 'latin1');
  image.writeUInt32BE(3, 4); // version
  image.writeUInt32BE(16, 20); // cluster_bits
  image.writeBigUInt64BE(1024n * 1024n, 24); // virtual size
  image.writeUInt32BE(1, 36); // l1_size
  image.writeBigUInt64BE(BigInt(3 * cluster), 40); // l1_table_offset
  image.writeBigUInt64BE(BigInt(cluster), 48); // refcount_table_offset
  image.writeUInt32BE(1, 56); // refcount_table_clusters
  image.writeUInt32BE(4, 96); // refcount_order (16 bits)
  image.writeUInt32BE(104, 100); // header_length
  image.writeBigUInt64BE(BigInt(2 * cluster), cluster); // refcount table → block
  for (let i = 0; i < 4; i++) image.writeUInt16BE(1, 2 * cluster + 2 * i);
  return image;
}

export async function writeBadImages(dir: string): Promise<BadImage[]> {
  const { scratch, withBzip2, withZstd, withSquashfs } = await prepare(dir);
  const cases: BadImage[] = [];
  let stageCount = 0;
  /** A fresh directory holding `tree`. */
  const stage = async (tree: Tree) => {
    const root = join(scratch, `stage-${stageCount++}`);
    await writeTree(root, tree);
    return root;
  };
  /** Saves one bad image. `contents`: one file (unified) or two (split, in that order). */
  const add = async (
    name: string,
    files: { file: string; content: Buffer | 'dir' }[],
    pattern: RegExp,
    /** Which file the message names (default: the first). */
    blamed = 0,
  ) => {
    const paths: string[] = [];
    for (const { file, content } of files) {
      const path = join(dir, files.length === 1 ? file : `${name}.${file}`);
      if (content === 'dir') await mkdir(path, { recursive: true });
      else await writeFile(path, content);
      paths.push(path);
    }
    cases.push({ name, files: paths, expected: naming(paths[blamed] ?? name, pattern) });
  };
  /** A unified tarball (GNU tar, gzip) of metadata.yaml with `yaml` and a small rootfs. */
  const unifiedWith = async (yaml: string | Buffer) => {
    const root = await stage({
      'metadata.yaml': yaml,
      'rootfs/etc/hostname': 'bad\n',
    });
    return tar(root, join(scratch, `u-${stageCount}.tar.gz`), ['metadata.yaml', 'rootfs'], {
      compression: 'gzip',
    });
  };
  const good = await unifiedWith(METADATA);
  const bigRoot = await stage({
    'metadata.yaml': METADATA,
    'rootfs/big': randomBytes(256 * 1024),
  });
  const bigTar = await tar(bigRoot, join(scratch, 'big.tar'), ['metadata.yaml', 'rootfs']);
  const half = (data: Buffer) => data.subarray(0, Math.floor(data.length / 2));

  // Not image files at all.
  await add('empty', [{ file: 'empty.tar.gz', content: Buffer.alloc(0) }], /is empty/);
  await add(
    'a-directory',
    [{ file: 'a-directory.tar.gz', content: 'dir' }],
    /is a (directory|folder), not an image file/,
  );
  await add(
    'random-bytes',
    [{ file: 'random.bin', content: randomBytes(4096) }],
    /is not an LXD image file\. LXD reads tarballs/,
  );
  await add(
    'a-png',
    [{ file: 'picture.png', content: png() }],
    /is not an LXD image file: it is a PNG picture/,
  );

  // Broken compression.
  await add(
    'truncated-gzip',
    [{ file: 'truncated.tar.gz', content: half(await compress(bigTar, 'gzip', scratch)) }],
    /is gzip-compressed but truncated/,
  );
  await add(
    'gzip-magic-then-garbage',
    [
      {
        file: 'garbage.tar.gz',
        content: Buffer.concat([
          Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
          randomBytes(4096),
        ]),
      },
    ],
    /is gzip-compressed but (corrupt|truncated)/,
  );
  await add(
    'gzip-of-not-a-tarball',
    [{ file: 'notatar.tar.gz', content: await compress(randomBytes(8192), 'gzip', scratch) }],
    /is gzip-compressed, but what it contains is not a tarball/,
  );
  await add(
    'truncated-xz',
    [{ file: 'truncated.tar.xz', content: half(await compress(bigTar, 'xz', scratch)) }],
    /is xz-compressed but truncated/,
  );
  if (withBzip2)
    await add(
      'truncated-bzip2',
      [{ file: 'truncated.tar.bz2', content: half(await compress(bigTar, 'bzip2', scratch)) }],
      /is bzip2-compressed but truncated/,
    );
  if (withZstd)
    await add(
      'truncated-zstd',
      [{ file: 'truncated.tar.zst', content: half(await compress(bigTar, 'zstd', scratch)) }],
      /is zstd-compressed but truncated/,
    );
  await add(
    'truncated-plain-tar',
    [{ file: 'truncated.tar', content: bigTar.subarray(0, 64 * 1024) }],
    /is truncated: the tarball ends in the middle of rootfs\/big/,
  );
  await add(
    'empty-tarball',
    [{ file: 'nothing.tar', content: Buffer.alloc(10240, 0) }],
    // 10 KiB of zeros: what `tar -cf x.tar -T /dev/null` writes. No ustar magic: not a tarball to LXD.
    /is not an LXD image file/,
  );
  await add(
    'empty-tarball-gzip',
    [
      {
        file: 'nothing.tar.gz',
        content: await compress(
          await tar(await stage({}), join(scratch, 'empty.tar'), ['-T', '/dev/null']),
          'gzip',
          scratch,
        ),
      },
    ],
    /is an empty tarball/,
  );

  // metadata.yaml.
  const rootfsOnly = await stage({
    'etc/hostname': 'rootfs\n',
    'bin/sh': randomBytes(2048),
  });
  await add(
    'no-metadata-yaml',
    [
      {
        file: 'rootfs-only.tar.gz',
        content: await tar(rootfsOnly, join(scratch, 'r.tar.gz'), ['etc', 'bin'], {
          compression: 'gzip',
        }),
      },
    ],
    /has no metadata\.yaml: it looks like a root filesystem/,
  );
  await add(
    'invalid-yaml',
    [
      {
        file: 'invalid-yaml.tar.gz',
        content: await unifiedWith('architecture: [x86_64\ncreation_date: 1'),
      },
    ],
    /metadata\.yaml in \S+ is not valid YAML/,
  );
  await add(
    'yaml-not-a-mapping',
    [{ file: 'yaml-list.tar.gz', content: await unifiedWith('- architecture\n- x86_64\n') }],
    /is not a YAML mapping/,
  );
  await add(
    'empty-metadata-yaml',
    [{ file: 'empty-yaml.tar.gz', content: await unifiedWith('') }],
    /metadata\.yaml in \S+ is empty/,
  );
  await add(
    'missing-architecture',
    [{ file: 'no-arch.tar.gz', content: await unifiedWith('creation_date: 1700000000\n') }],
    /has no architecture/,
  );
  await add(
    'unknown-architecture',
    [
      {
        file: 'z80.tar.gz',
        content: await unifiedWith('architecture: z80\ncreation_date: 1700000000\n'),
      },
    ],
    /names an architecture LXD does not know: "z80"/,
  );
  await add(
    'missing-creation-date',
    [{ file: 'no-date.tar.gz', content: await unifiedWith('architecture: x86_64\n') }],
    /has no creation_date/,
  );
  await add(
    'zero-creation-date',
    [
      {
        file: 'date-zero.tar.gz',
        content: await unifiedWith('architecture: x86_64\ncreation_date: 0\n'),
      },
    ],
    /has creation_date 0/,
  );
  await add(
    'creation-date-as-text',
    [
      {
        file: 'date-text.tar.gz',
        content: await unifiedWith('architecture: x86_64\ncreation_date: "2024-05-01"\n'),
      },
    ],
    /creation_date must be a Unix time/,
  );
  await add(
    'property-not-text',
    [
      {
        file: 'property-list.tar.gz',
        content: await unifiedWith(`${METADATA}properties:\n  os: [debian, ubuntu]\n`),
      },
    ],
    /properties\.os must be text, not a list/,
  );
  await add(
    'template-when-not-a-list',
    [
      {
        file: 'template-when.tar.gz',
        content: await unifiedWith(
          `${METADATA}templates:\n  /etc/hostname:\n    when: create\n    template: hostname.tpl\n`,
        ),
      },
    ],
    /templates\.\/etc\/hostname\.when must be a list/,
  );
  await add(
    'metadata-yaml-too-large',
    [
      {
        file: 'huge-yaml.tar.gz',
        content: await unifiedWith(`${METADATA}# ${'x'.repeat(1024 * 1024)}\n`),
      },
    ],
    /metadata\.yaml in \S+ is too large \(1\.0 MiB\): LXD reads at most 1 MiB/,
  );
  const linkedMetadata = await stage({
    'metadata.yaml': { symlink: 'rootfs/etc/metadata.yaml' },
    'rootfs/etc/metadata.yaml': METADATA,
  });
  await add(
    'metadata-yaml-is-a-symlink',
    [
      {
        file: 'yaml-symlink.tar.gz',
        content: await tar(linkedMetadata, join(scratch, 'l.tar.gz'), ['metadata.yaml', 'rootfs'], {
          compression: 'gzip',
        }),
      },
    ],
    /metadata\.yaml in \S+ is a symbolic link, not a regular file/,
  );
  const noRootfs = await stage({
    'metadata.yaml': METADATA,
    'templates/hostname.tpl': '{{ instance.name }}\n',
  });
  await add(
    'no-rootfs',
    [
      {
        file: 'metadata-only.tar.xz',
        content: await tar(noRootfs, join(scratch, 'm.tar.xz'), ['metadata.yaml', 'templates'], {
          compression: 'xz',
        }),
      },
    ],
    /has metadata\.yaml but no rootfs\/ or rootfs\.img/,
  );

  // Unsafe paths and links. GNU tar writes absolute and ".." names with -P (--absolute-names).
  const absolute = await stage({ 'metadata.yaml': METADATA, 'rootfs/etc/hostname': 'x\n' });
  await writeFile(join(absolute, 'evil'), 'x');
  await add(
    'absolute-path',
    [
      {
        file: 'absolute.tar.gz',
        content: await tar(
          absolute,
          join(scratch, 'a.tar.gz'),
          ['metadata.yaml', 'rootfs', join(absolute, 'evil')],
          { compression: 'gzip', extra: ['-P'] },
        ),
      },
    ],
    new RegExp(`contains an absolute path, ${escape(join(absolute, 'evil'))}`),
  );
  // ".." as given on the command line: run from stage/a/b, rootfs/../../etc/passwd is stage/a/etc/passwd.
  const dotdot = await stage({
    'a/b/metadata.yaml': METADATA,
    'a/b/rootfs/etc/hostname': 'x\n',
    'a/etc/passwd': 'root::0:0::/root:/bin/sh\n',
  });
  await add(
    'dot-dot-path',
    [
      {
        file: 'dotdot.tar.gz',
        content: await tar(
          join(dotdot, 'a', 'b'),
          join(scratch, 'd.tar.gz'),
          ['metadata.yaml', 'rootfs', 'rootfs/../../etc/passwd'],
          { compression: 'gzip', extra: ['-P'] },
        ),
      },
    ],
    /contains rootfs\/\.\.\/\.\.\/etc\/passwd, which escapes the image \(a path with \.\.\)/,
  );
  await add(
    'pax-path-escape',
    [
      {
        file: 'pax-escape.tar',
        content: rawTar([
          { path: 'metadata.yaml', content: METADATA },
          { path: 'rootfs/', type: '5' },
          paxPath('rootfs/../../../root/.ssh/authorized_keys'),
          { path: 'rootfs/innocent', content: 'ssh-ed25519 AAAA attacker\n' },
        ]),
      },
    ],
    /contains rootfs\/\.\.\/\.\.\/\.\.\/root\/\.ssh\/authorized_keys, which escapes the image/,
  );
  await add(
    'gnu-long-name-escape',
    [
      {
        file: 'longlink-escape.tar',
        content: rawTar([
          { path: 'metadata.yaml', content: METADATA },
          { path: 'rootfs/', type: '5' },
          { path: '././@LongLink', type: 'L', content: `rootfs/${'../'.repeat(40)}etc/shadow\0` },
          { path: 'rootfs/innocent', content: 'x' },
        ]),
      },
    ],
    /which escapes the image \(a path with \.\.\)/,
  );
  const symlinkOut = await stage({
    'metadata.yaml': METADATA,
    'rootfs/etc/hostname': 'x\n',
    'rootfs/x': { symlink: '../../../etc' },
  });
  await add(
    'symlink-escape',
    [
      {
        file: 'symlink-escape.tar.gz',
        content: await tar(symlinkOut, join(scratch, 's.tar.gz'), ['metadata.yaml', 'rootfs'], {
          compression: 'gzip',
        }),
      },
    ],
    /contains a symbolic link rootfs\/x -> \.\.\/\.\.\/\.\.\/etc that points outside the image/,
  );
  await add(
    'write-through-symlink',
    [
      {
        file: 'through-symlink.tar',
        content: rawTar([
          { path: 'metadata.yaml', content: METADATA },
          { path: 'rootfs/', type: '5' },
          { path: 'rootfs/etc', type: '2', linkTarget: '/etc' },
          { path: 'rootfs/etc/passwd', content: 'root::0:0::/:/bin/sh\n' },
        ]),
      },
    ],
    /writes rootfs\/etc\/passwd through the symbolic link rootfs\/etc/,
  );
  await add(
    'hardlink-escape',
    [
      {
        file: 'hardlink-escape.tar',
        content: rawTar([
          { path: 'metadata.yaml', content: METADATA },
          { path: 'rootfs/', type: '5' },
          { path: 'rootfs/shadow', type: '1', linkTarget: '../../etc/shadow' },
        ]),
      },
    ],
    /contains a hard link rootfs\/shadow -> \.\.\/\.\.\/etc\/shadow that points outside the image/,
  );
  await add(
    'hardlink-through-symlink',
    [
      {
        file: 'hardlink-through-symlink.tar',
        content: rawTar([
          { path: 'metadata.yaml', content: METADATA },
          { path: 'rootfs/', type: '5' },
          { path: 'rootfs/host', type: '2', linkTarget: '/' },
          { path: 'rootfs/shadow', type: '1', linkTarget: 'rootfs/host/etc/shadow' },
        ]),
      },
    ],
    /hard link rootfs\/shadow -> rootfs\/host\/etc\/shadow through the symbolic link rootfs\/host/,
  );

  // Two files.
  const metadataTar = await tar(
    await stage({ 'metadata.yaml': METADATA }),
    join(scratch, 'meta.tar.gz'),
    ['metadata.yaml'],
    { compression: 'gzip' },
  );
  const rootfsTar = await tar(
    await stage({ 'etc/hostname': 'split\n', 'bin/sh': randomBytes(64 * 1024) }),
    join(scratch, 'rootfs.tar.gz'),
    ['etc', 'bin'],
    { compression: 'gzip' },
  );
  await add(
    'split-metadata-without-yaml',
    [
      {
        file: 'meta.tar.gz',
        content: await tar(
          await stage({ 'templates/hostname.tpl': 'x\n' }),
          join(scratch, 'nm.tar.gz'),
          ['templates'],
          { compression: 'gzip' },
        ),
      },
      { file: 'rootfs.tar.gz', content: rootfsTar },
    ],
    /has no metadata\.yaml at its top, so it is not the metadata tarball of a split image/,
  );
  await add(
    'split-rootfs-not-an-image',
    [
      { file: 'meta.tar.gz', content: metadataTar },
      { file: 'rootfs.bin', content: randomBytes(32 * 1024) },
    ],
    /is not an LXD image file/,
    1,
  );
  await add(
    'split-rootfs-empty',
    [
      { file: 'meta.tar.gz', content: metadataTar },
      { file: 'rootfs.tar.gz', content: Buffer.alloc(0) },
    ],
    /is empty/,
    1,
  );
  // Two root filesystems: neither is the metadata, so the smaller one is taken as it (by size).
  const smallRootfs = await tar(
    await stage({ 'etc/hostname': 'tiny\n', 'bin/true': 'x' }),
    join(scratch, 'tiny.tar.gz'),
    ['etc', 'bin'],
    { compression: 'gzip' },
  );
  await add(
    'split-no-metadata',
    [
      {
        file: 'rootfs-a.tar.gz',
        content: await tar(
          await stage({ 'etc/hostname': 'a\n', 'bin/sh': randomBytes(64 * 1024) }),
          join(scratch, 'other-rootfs.tar.gz'),
          ['etc', 'bin'],
          { compression: 'gzip' },
        ),
      },
      { file: 'rootfs-b.tar.gz', content: smallRootfs },
    ],
    /looks like a root filesystem: neither of the two files is the metadata tarball/,
    1,
  );
  const escapingRoot = await stage({
    'etc/hostname': 'x\n',
    'etc/passwd': { symlink: '../../../../etc/passwd' },
    'bin/sh': randomBytes(32 * 1024),
  });
  await add(
    'split-rootfs-escapes',
    [
      { file: 'meta.tar.gz', content: metadataTar },
      {
        file: 'rootfs.tar.gz',
        content: await tar(escapingRoot, join(scratch, 'er.tar.gz'), ['etc', 'bin'], {
          compression: 'gzip',
        }),
      },
    ],
    /symbolic link etc\/passwd -> \.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd that points outside the image/,
    1,
  );
  await add(
    'split-two-unified-images',
    [
      { file: 'small.tar.gz', content: good },
      { file: 'large.tar', content: bigTar },
    ],
    /is a unified image \(metadata\.yaml and rootfs\/\), not the rootfs of a split image/,
    1,
  );
  if (withSquashfs) {
    const squashRoot = await stage({ 'etc/hostname': 'sq\n', 'bin/sh': randomBytes(64 * 1024) });
    const squashfs = join(scratch, 'rootfs.squashfs');
    await run('mksquashfs', [squashRoot, squashfs, '-noappend', '-quiet', '-no-progress']);
    const squashed = await readFile(squashfs);
    await add(
      'squashfs-alone',
      [{ file: 'rootfs.squashfs', content: squashed }],
      /is a squashfs filesystem, which can only be the rootfs of a split image/,
    );
    await add(
      'split-squashfs-truncated',
      [
        { file: 'meta.tar.gz', content: metadataTar },
        { file: 'rootfs.squashfs', content: squashed.subarray(0, squashed.length - 4096) },
      ],
      /is a squashfs filesystem but truncated/,
      1,
    );
  }
  await rm(scratch, { recursive: true, force: true });
  return cases;
}

export async function writeGoodImages(dir: string): Promise<GoodImage[]> {
  const { scratch, withBzip2, withZstd, withSquashfs } = await prepare(dir);
  const id = randomBytes(8).toString('hex');
  const description = `Hangar test image ${id}`;
  const metadata = (architecture: string) =>
    [
      `architecture: ${architecture}`,
      'creation_date: 1700000000',
      'properties:',
      `  description: ${description}`,
      '  os: Debian',
      '  release: "12"',
      'templates:',
      '  /etc/hostname:',
      '    when: [create, copy]',
      '    template: hostname.tpl',
      '',
    ].join('\n');
  /** A small root filesystem: files, links (absolute ones resolve in the instance), a long name. */
  const rootfs = (prefix: string): Tree => ({
    [`${prefix}etc/hangar-id`]: `${id}\n`,
    [`${prefix}etc/hostname`]: 'good\n',
    [`${prefix}etc/mtab`]: { symlink: '/proc/self/mounts' },
    [`${prefix}bin`]: { symlink: 'usr/bin' },
    [`${prefix}usr/bin/hello`]: randomBytes(16 * 1024),
    [`${prefix}usr/share/doc/${'a-rather-long-directory-name-'.repeat(3)}/${'and-a-long-file-name-'.repeat(4)}.txt`]:
      'long names travel in ././@LongLink (gnu), pax headers (pax) or the ustar prefix\n',
  });
  const templates: Tree = { 'templates/hostname.tpl': '{{ instance.name }}\n' };

  let count = 0;
  const stage = async (tree: Tree) => {
    const root = join(scratch, `stage-${count++}`);
    await writeTree(root, tree);
    // A hard link, as GNU tar stores one (type 1, target named inside the archive).
    const id1 = Object.keys(tree).find((path) => path.endsWith('etc/hangar-id'));
    if (id1 !== undefined)
      await run('ln', [join(root, id1), join(root, dirname(id1), 'hangar-id.link')]);
    return root;
  };
  const images: GoodImage[] = [];
  const save = async (
    name: string,
    parts: { file: string; content: Buffer; format: FileFormat }[],
    architecture: string,
    templateFiles: string[],
  ) => {
    const files: string[] = [];
    for (const part of parts) {
      const path = join(dir, parts.length === 1 ? part.file : `${name}.${part.file}`);
      await writeFile(path, part.content);
      files.push(path);
    }
    images.push({
      name,
      files,
      fingerprint: sha256(...parts.map((part) => part.content)),
      architecture,
      templates: templateFiles,
      formats: parts.map((part) => part.format),
      description,
    });
  };
  const unified = async (
    architecture: string,
    compression: TarCompression | 'lzma',
    format: 'gnu' | 'pax' | 'ustar',
  ) => {
    const root = await stage({
      'metadata.yaml': metadata(architecture),
      ...rootfs('rootfs/'),
      ...templates,
    });
    const members = ['metadata.yaml', 'rootfs', 'templates'];
    const out = join(scratch, `u-${count}.tar`);
    if (compression !== 'lzma') return tar(root, out, members, { compression, format });
    return compress(await tar(root, out, members, { format }), 'lzma', scratch);
  };
  const tarball = (compression: Compressor | 'none'): FileFormat => ({
    kind: 'tarball',
    compression,
  });

  await save(
    'unified.tar.gz',
    [
      {
        file: 'unified.tar.gz',
        content: await unified('x86_64', 'gzip', 'gnu'),
        format: tarball('gzip'),
      },
    ],
    'x86_64',
    ['hostname.tpl'],
  );
  await save(
    'unified.tar.xz',
    [
      {
        file: 'unified.tar.xz',
        content: await unified('aarch64', 'xz', 'pax'),
        format: tarball('xz'),
      },
    ],
    'aarch64',
    ['hostname.tpl'],
  );
  const splitMetadata = async (compression: TarCompression) =>
    tar(
      await stage({ 'metadata.yaml': metadata('x86_64'), ...templates }),
      join(scratch, `m-${count}.tar`),
      ['metadata.yaml', 'templates'],
      { compression, format: 'ustar' },
    );
  await save(
    'split-xz-gz',
    [
      { file: 'meta.tar.xz', content: await splitMetadata('xz'), format: tarball('xz') },
      {
        file: 'rootfs.tar.gz',
        content: await tar(
          await stage(rootfs('')),
          join(scratch, `r-${count}.tar.gz`),
          ['etc', 'bin', 'usr'],
          { compression: 'gzip' },
        ),
        format: tarball('gzip'),
      },
    ],
    'x86_64',
    ['hostname.tpl'],
  );
  // The metadata larger than the rootfs (a big template, written before metadata.yaml): the
  // content, not the size, says which is which.
  await save(
    'split-fat-metadata',
    [
      {
        file: 'meta.tar.gz',
        content: await tar(
          await stage({
            'metadata.yaml': metadata('x86_64'),
            ...templates,
            'templates/padding.tpl': randomBytes(256 * 1024),
          }),
          join(scratch, `fat-${count}.tar.gz`),
          ['templates', 'metadata.yaml'],
          { compression: 'gzip', format: 'gnu', extra: ['--sort=name'] },
        ),
        format: tarball('gzip'),
      },
      {
        file: 'rootfs.tar.gz',
        content: await tar(
          await stage(rootfs('')),
          join(scratch, `r-${count}.tar.gz`),
          ['etc', 'bin', 'usr'],
          { compression: 'gzip' },
        ),
        format: tarball('gzip'),
      },
    ],
    'x86_64',
    ['hostname.tpl', 'padding.tpl'],
  );
  if (withSquashfs) {
    const squashRoot = await stage(rootfs(''));
    const squashfs = join(scratch, `rootfs-${id}.squashfs`);
    await run('mksquashfs', [squashRoot, squashfs, '-noappend', '-quiet', '-no-progress']);
    await save(
      'split-squashfs',
      [
        {
          file: 'meta.tar.zst',
          content: await splitMetadata(withZstd ? 'zstd' : 'gzip'),
          format: tarball(withZstd ? 'zstd' : 'gzip'),
        },
        {
          file: 'rootfs.squashfs',
          content: await readFile(squashfs),
          format: { kind: 'squashfs' },
        },
      ],
      'x86_64',
      ['hostname.tpl'],
    );
  }
  if (withBzip2)
    await save(
      'unified.tar.bz2',
      [
        {
          file: 'unified.tar.bz2',
          content: await unified('amd64', 'bzip2', 'ustar'),
          format: tarball('bzip2'),
        },
      ],
      'amd64',
      ['hostname.tpl'],
    );
  if (withZstd)
    await save(
      'unified.tar.zst',
      [
        {
          file: 'unified.tar.zst',
          content: await unified('x86_64', 'zstd', 'gnu'),
          format: tarball('zstd'),
        },
      ],
      'x86_64',
      ['hostname.tpl'],
    );
  await save(
    'unified.tar',
    [
      {
        file: 'unified.tar',
        content: await unified('x86_64', 'none', 'pax'),
        format: tarball('none'),
      },
    ],
    'x86_64',
    ['hostname.tpl'],
  );
  await save(
    'unified.tar.lzma',
    [
      {
        file: 'unified.tar.lzma',
        content: await unified('x86_64', 'lzma', 'gnu'),
        format: tarball('lzma'),
      },
    ],
    'x86_64',
    ['hostname.tpl'],
  );
  await save(
    'split-vm-qcow2',
    [
      { file: 'meta.tar.xz', content: await splitMetadata('xz'), format: tarball('xz') },
      { file: 'rootfs.img', content: qcow2(), format: { kind: 'qcow2' } },
    ],
    'x86_64',
    ['hostname.tpl'],
  );
  await rm(scratch, { recursive: true, force: true });
  return images;
}
