/**
 * Image files for the import tests, written to disk with real tools (tar,
 * gzip, xz, zstd, mksquashfs) or, for hostile tarballs that GNU tar refuses
 * to make, with hand-built headers. Each bad one carries the specific error
 * Hangar must give for it.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

export interface BadImage {
  name: string;
  /** One file (unified) or two (split: lxc takes the smaller one as the metadata). */
  files: string[];
  expected: RegExp;
}

export interface GoodImage {
  name: string;
  files: string[];
  /** sha256 of the file, or of metadata then rootfs. */
  fingerprint: string;
  architecture: string;
  templates: string[];
}

interface RawEntry {
  path: string;
  type?: '0' | '1' | '2' | '5' | 'x';
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
    header.write('0000644\0', 100, 'ascii');
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

/** A pax extended header carrying `path` (how long or hostile names travel). */
function paxPath(path: string): RawEntry {
  const body = ` path=${path}\n`;
  let length = body.length;
  length += String(length + String(length).length).length;
  return { path: 'PaxHeader', type: 'x', content: `${length}${body}` };
}

const yaml = (fields: string) => `${fields}\n`;
const GOOD_YAML = yaml('architecture: x86_64\ncreation_date: 1700000000');

function unified(metadata: string, rootfs: RawEntry[] = [{ path: 'rootfs/', type: '5' }]) {
  return gzipSync(rawTar([{ path: 'metadata.yaml', content: metadata }, ...rootfs]));
}

const sha256 = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

async function compress(
  dir: string,
  name: string,
  data: Buffer,
  tool: 'xz' | 'zstd',
): Promise<Buffer> {
  const path = join(dir, name);
  await writeFile(path, data);
  await run(tool, tool === 'xz' ? ['-f', path] : ['-qf', '--rm', path]);
  return readFile(`${path}.${tool === 'xz' ? 'xz' : 'zst'}`);
}

export async function writeBadImages(dir: string): Promise<BadImage[]> {
  await mkdir(dir, { recursive: true });
  const cases: BadImage[] = [];
  const add = async (name: string, contents: (Buffer | 'dir')[], expected: RegExp) => {
    const files: string[] = [];
    for (const [index, content] of contents.entries()) {
      const path = join(dir, contents.length === 1 ? name : `${name}.${index}`);
      if (content === 'dir') await mkdir(path, { recursive: true });
      else await writeFile(path, content);
      files.push(path);
    }
    cases.push({ name, files, expected });
  };
  const good = unified(GOOD_YAML);

  await add('empty', [Buffer.alloc(0)], /is empty/);
  await add('a-directory', ['dir'], /is a folder, not an image file/);
  await add('random-bytes', [randomBytes(4096)], /is not an image file/);
  await add(
    'a-png',
    [Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(2048)])],
    /is not an image file/,
  );
  await add(
    'truncated-gzip',
    [good.subarray(0, Math.floor(good.length / 2))],
    /gzip-compressed but truncated or corrupt/,
  );
  await add(
    'gzip-magic-then-garbage',
    [Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), randomBytes(4096)])],
    /gzip-compressed but truncated or corrupt/,
  );
  const xz = await compress(
    dir,
    'xz-source.tar',
    rawTar([
      { path: 'metadata.yaml', content: GOOD_YAML },
      { path: 'rootfs/big', content: randomBytes(64 * 1024) },
    ]),
    'xz',
  );
  await add(
    'truncated-xz',
    [xz.subarray(0, Math.floor(xz.length / 2))],
    /xz-compressed but truncated or corrupt/,
  );
  const zst = await compress(
    dir,
    'zstd-source.tar',
    rawTar([
      { path: 'metadata.yaml', content: GOOD_YAML },
      { path: 'rootfs/big', content: randomBytes(64 * 1024) },
    ]),
    'zstd',
  );
  await add(
    'truncated-zstd',
    [zst.subarray(0, Math.floor(zst.length / 2))],
    /zstd-compressed but truncated or corrupt/,
  );
  await add(
    'truncated-plain-tar',
    [
      rawTar([
        { path: 'metadata.yaml', content: GOOD_YAML },
        { path: 'rootfs/big', content: randomBytes(8192) },
      ]).subarray(0, 4096),
    ],
    /is truncated/,
  );
  await add(
    'no-metadata-yaml',
    [
      gzipSync(
        rawTar([
          { path: 'rootfs/', type: '5' },
          { path: 'rootfs/file', content: 'x' },
        ]),
      ),
    ],
    /has no metadata\.yaml/,
  );
  await add(
    'invalid-yaml',
    [unified('architecture: [x86_64\ncreation_date: 1')],
    /is not valid YAML/,
  );
  await add('yaml-not-a-mapping', [unified('- architecture\n- x86_64\n')], /is not a YAML mapping/);
  await add(
    'missing-architecture',
    [unified(yaml('creation_date: 1700000000'))],
    /has no architecture/,
  );
  await add(
    'unknown-architecture',
    [unified(yaml('architecture: z80\ncreation_date: 1700000000'))],
    /architecture LXD does not know: "z80"/,
  );
  await add(
    'missing-creation-date',
    [unified(yaml('architecture: x86_64'))],
    /has no creation_date/,
  );
  await add(
    'zero-creation-date',
    [unified(yaml('architecture: x86_64\ncreation_date: 0'))],
    /invalid creation_date: 0/,
  );
  await add(
    'metadata-over-1-MiB',
    [unified(`${GOOD_YAML}# ${'x'.repeat(1024 * 1024 + 10)}\n`)],
    /Hangar reads at most 1 MiB/,
  );
  await add(
    'absolute-path',
    [
      unified(GOOD_YAML, [
        { path: 'rootfs/', type: '5' },
        { path: '/etc/cron.d/evil', content: 'x' },
      ]),
    ],
    /absolute path, \/etc\/cron\.d\/evil/,
  );
  await add(
    'dot-dot-path',
    [unified(GOOD_YAML, [{ path: 'rootfs/../../etc/passwd', content: 'x' }])],
    /rootfs\/\.\.\/\.\.\/etc\/passwd, which escapes the image/,
  );
  await add(
    'pax-path-escape',
    [
      unified(GOOD_YAML, [
        { path: 'rootfs/', type: '5' },
        paxPath('rootfs/../../../root/.ssh/authorized_keys'),
        { path: 'rootfs/innocent', content: 'key' },
      ]),
    ],
    /escapes the image/,
  );
  await add(
    'symlink-escape',
    [
      unified(GOOD_YAML, [
        { path: 'rootfs/', type: '5' },
        { path: 'rootfs/escape', type: '2', linkTarget: '../../../etc' },
      ]),
    ],
    /symbolic link rootfs\/escape -> \.\.\/\.\.\/\.\.\/etc that points outside/,
  );
  await add(
    'write-through-symlink',
    [
      unified(GOOD_YAML, [
        { path: 'rootfs/', type: '5' },
        { path: 'rootfs/etc', type: '2', linkTarget: '/etc' },
        { path: 'rootfs/etc/passwd', content: 'root::0:0::/:/bin/sh\n' },
      ]),
    ],
    /writes rootfs\/etc\/passwd through the link rootfs\/etc/,
  );
  await add(
    'hardlink-escape',
    [
      unified(GOOD_YAML, [
        { path: 'rootfs/', type: '5' },
        { path: 'rootfs/shadow', type: '1', linkTarget: '../../etc/shadow' },
      ]),
    ],
    /hard link rootfs\/shadow -> \.\.\/\.\.\/etc\/shadow that points outside/,
  );
  await add(
    'no-rootfs',
    [
      gzipSync(
        rawTar([
          { path: 'metadata.yaml', content: GOOD_YAML },
          { path: 'templates/', type: '5' },
        ]),
      ),
    ],
    /no rootfs\/ or rootfs\.img/,
  );
  const rootfsTar = gzipSync(
    rawTar([
      { path: 'bin/', type: '5' },
      { path: 'bin/sh', content: randomBytes(16 * 1024) },
    ]),
  );
  await add(
    'split-metadata-without-yaml',
    [gzipSync(rawTar([{ path: 'templates/', type: '5' }])), rootfsTar],
    /has no metadata\.yaml: it is not the metadata of an LXD image/,
  );
  await add(
    'split-rootfs-not-an-image',
    [gzipSync(rawTar([{ path: 'metadata.yaml', content: GOOD_YAML }])), randomBytes(32 * 1024)],
    /is not an image file/,
  );
  await add(
    'split-rootfs-empty',
    [gzipSync(rawTar([{ path: 'metadata.yaml', content: GOOD_YAML }])), Buffer.alloc(0)],
    /is empty/,
  );
  // The metadata made bigger than the rootfs: by lxc's rule the rootfs is taken as the metadata.
  await add(
    'split-metadata-larger-than-rootfs',
    [
      gzipSync(
        rawTar([
          { path: 'metadata.yaml', content: GOOD_YAML },
          { path: 'templates/padding', content: randomBytes(64 * 1024) },
        ]),
      ),
      gzipSync(rawTar([{ path: 'bin/', type: '5' }])),
    ],
    /the smaller of two files is the metadata/,
  );
  await add(
    'split-rootfs-escapes',
    [
      gzipSync(rawTar([{ path: 'metadata.yaml', content: GOOD_YAML }])),
      gzipSync(
        rawTar([
          { path: 'bin/', type: '5' },
          { path: '../outside', content: randomBytes(8192) },
        ]),
      ),
    ],
    /escapes the image/,
  );
  return cases;
}

export async function writeGoodImages(dir: string): Promise<GoodImage[]> {
  await mkdir(dir, { recursive: true });
  const id = randomBytes(8).toString('hex');
  const metadata = (arch: string) =>
    `architecture: ${arch}\ncreation_date: 1700000000\nproperties:\n  description: good ${id}\ntemplates:\n  /etc/hostname:\n    when: [create]\n    template: hostname.tpl\n`;
  const rootfs = (): RawEntry[] => [
    { path: 'rootfs/', type: '5' },
    { path: 'rootfs/etc/', type: '5' },
    { path: 'rootfs/etc/id', content: `${id}\n` },
    // Links inside the image are fine: absolute ones resolve in the container.
    { path: 'rootfs/etc/mtab', type: '2', linkTarget: '/proc/self/mounts' },
    { path: 'rootfs/etc/id2', type: '1', linkTarget: 'rootfs/etc/id' },
    { path: 'rootfs/bin', type: '2', linkTarget: 'usr/bin' },
  ];
  const templates: RawEntry[] = [
    { path: 'templates/', type: '5' },
    { path: 'templates/hostname.tpl', content: '{{ container.name }}\n' },
  ];
  const images: GoodImage[] = [];
  const save = async (name: string, parts: Buffer[], architecture: string, tpl: string[]) => {
    const files: string[] = [];
    for (const [index, part] of parts.entries()) {
      const path = join(
        dir,
        parts.length === 1 ? name : `${name}.${index === 0 ? 'meta' : 'rootfs'}`,
      );
      await writeFile(path, part);
      files.push(path);
    }
    images.push({ name, files, fingerprint: sha256(...parts), architecture, templates: tpl });
  };
  await save(
    'unified.tar.gz',
    [
      gzipSync(
        rawTar([{ path: 'metadata.yaml', content: metadata('x86_64') }, ...rootfs(), ...templates]),
      ),
    ],
    'x86_64',
    ['hostname.tpl'],
  );
  await save(
    'unified.tar.xz',
    [
      await compress(
        dir,
        `u-${id}.tar`,
        rawTar([{ path: 'metadata.yaml', content: metadata('aarch64') }, ...rootfs()]),
        'xz',
      ),
    ],
    'aarch64',
    [],
  );
  await save(
    'split-xz-gz',
    [
      await compress(
        dir,
        `m-${id}.tar`,
        rawTar([{ path: 'metadata.yaml', content: metadata('x86_64') }, ...templates]),
        'xz',
      ),
      gzipSync(
        rawTar([
          { path: 'etc/', type: '5' },
          { path: 'etc/id', content: `${id}\n` },
          { path: 'etc/filler', content: randomBytes(32 * 1024) },
        ]),
      ),
    ],
    'x86_64',
    ['hostname.tpl'],
  );
  const squashDir = join(dir, `squash-${id}`);
  await mkdir(join(squashDir, 'etc'), { recursive: true });
  await writeFile(join(squashDir, 'etc', 'id'), `${id}\n`);
  await writeFile(join(squashDir, 'etc', 'filler'), randomBytes(32 * 1024));
  await run('mksquashfs', [squashDir, join(dir, `rootfs-${id}.squashfs`), '-noappend', '-quiet']);
  await save(
    'split-squashfs',
    [
      await compress(
        dir,
        `ms-${id}.tar`,
        rawTar([{ path: 'metadata.yaml', content: metadata('x86_64') }]),
        'zstd',
      ),
      await readFile(join(dir, `rootfs-${id}.squashfs`)),
    ],
    'x86_64',
    [],
  );
  return images;
}
