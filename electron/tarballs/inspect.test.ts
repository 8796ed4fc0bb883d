import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  paxPath,
  rawTar,
  writeBadImages,
  writeGoodImages,
  type BadImage,
  type GoodImage,
} from '../../scripts/image-corpus/bad-images.js';
import { HangarError } from '../../shared/errors.js';
import {
  createCombinedHash,
  detectFormat,
  inspectFile,
  inspectingStream,
  orderSplitFiles,
  peekSplitRole,
  parseMetadataYaml,
  type FileInspection,
} from './inspect.js';
import { TarParser, type TarEntry } from './tar-entries.js';

const run = promisify(execFile);
/** A full collection, so the RSS shows live memory rather than garbage not yet collected. */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const METADATA = 'architecture: x86_64\ncreation_date: 1700000000\n';

let dir: string;
let bad: BadImage[];
let good: GoodImage[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-inspect-'));
  [bad, good] = await Promise.all([
    writeBadImages(join(dir, 'bad')),
    writeGoodImages(join(dir, 'good')),
  ]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What an import does: one file is unified; of two, the smaller is the metadata. */
async function inspectImage(files: string[]): Promise<FileInspection[]> {
  const [first, second] = files;
  if (first === undefined) throw new Error('no file');
  if (second === undefined) return [await inspectFile(first, 'unified')];
  const [metadata, rootfs] = await orderSplitFiles([first, second]);
  return [await inspectFile(metadata, 'metadata'), await inspectFile(rootfs, 'rootfs')];
}

async function sha256sum(file: string): Promise<string> {
  const { stdout } = await run('sha256sum', [file]);
  return stdout.split(' ')[0] ?? '';
}

/** Reads a whole stream into one buffer. */
async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('accepted');
    },
    (error: unknown) => error as HangarError,
  );

describe('good images', () => {
  it('are all there: unified gz/xz/bz2/zst/lzma/plain, split xz+gz, squashfs and qcow2 rootfs', () => {
    expect(good.map((image) => image.name)).toEqual(
      expect.arrayContaining([
        'unified.tar.gz',
        'unified.tar.xz',
        'split-xz-gz',
        'split-squashfs',
        'unified.tar',
        'unified.tar.lzma',
        'split-vm-qcow2',
      ]),
    );
  });

  it('read with the right format, metadata, templates and sha256 (= sha256sum)', async () => {
    for (const image of good) {
      const inspected = await inspectImage(image.files);
      expect(
        inspected.map((file) => file.format),
        image.name,
      ).toEqual(image.formats);
      for (const [index, inspection] of inspected.entries()) {
        const file = image.files[index] ?? '';
        expect(inspection.sha256, image.name).toBe(await sha256sum(file));
        expect(inspection.size).toBe((await readFile(file)).length);
      }
      const [first] = inspected;
      expect(first?.metadata, image.name).toEqual({
        architecture: image.architecture,
        creationDate: 1_700_000_000,
        properties: { description: image.description, os: 'Debian', release: '12' },
        templates: { '/etc/hostname': { when: ['create', 'copy'], template: 'hostname.tpl' } },
      });
      expect(first?.templateFiles, image.name).toEqual(image.templates);
      if (image.files.length === 1) {
        expect(first?.contents.rootfsDir, image.name).toBe(true);
        // metadata.yaml, rootfs/ and its files, links, templates/.
        expect(first?.contents.entries, image.name).toBeGreaterThan(10);
      } else {
        expect(inspected[1]?.metadata, image.name).toBeUndefined();
      }
    }
  });

  it('give the split fingerprint through one combined hash fed in order', async () => {
    for (const image of good.filter((candidate) => candidate.files.length === 2)) {
      const [metadataPath, rootfsPath] = image.files as [string, string];
      const hash = createCombinedHash();
      const first = inspectingStream(createReadStream(metadataPath), 'metadata', { hash });
      await drain(first.stream);
      const second = inspectingStream(createReadStream(rootfsPath), 'rootfs', { hash });
      await drain(second.stream);
      expect((await first.result).sha256).toBe(await sha256sum(metadataPath));
      expect((await second.result).sha256, image.name).toBe(image.fingerprint);
      expect(await hash.digest()).toBe(image.fingerprint);
      hash.dispose();
    }
  });

  it('hashes in a worker thread, with the same digests as in this thread, big or empty', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 123);
    const hash = createCombinedHash();
    expect(await hash.digest()).toBe(createHash('sha256').digest('hex'));
    for (let at = 0; at < bytes.length; at += 100_000) {
      hash.update(bytes.subarray(at, at + 100_000));
      await hash.ready();
    }
    expect(await hash.digest()).toBe(createHash('sha256').update(bytes).digest('hex'));
    hash.update(Buffer.from('more'));
    expect(await hash.digest()).toBe(
      createHash('sha256').update(bytes).update('more').digest('hex'),
    );
    hash.dispose();
  });
});

describe('the bad-image corpus', () => {
  it('has the cases the import tests rely on', () => {
    expect(bad.length).toBeGreaterThanOrEqual(22);
    expect(new Set(bad.map((image) => image.name)).size).toBe(bad.length);
  });

  it('is refused, each with its own specific message naming the file', async () => {
    const outcomes: string[] = [];
    for (const image of bad) {
      const error = await refusal(inspectImage(image.files));
      expect(error, image.name).toBeInstanceOf(HangarError);
      expect(error.code, `${image.name}: ${error.message}`).toBe('invalid-image');
      if (!image.expected.test(error.message))
        outcomes.push(`${image.name}: ${error.message} !~ ${String(image.expected)}`);
    }
    expect(outcomes).toEqual([]);
  });
});

describe('the stream', () => {
  it('passes every byte through unchanged, for gzip, xz and plain tarballs', async () => {
    const tar = rawTar([
      { path: 'metadata.yaml', content: METADATA },
      { path: 'rootfs/', type: '5' },
      { path: 'rootfs/blob', content: randomBytes(6 * 1024 * 1024) },
    ]);
    const plain = join(dir, 'pass.tar');
    await writeFile(plain, tar);
    await run('xz', ['-k', '-0', '-T1', plain]);
    await run('gzip', ['-k', '-1', plain]);
    for (const file of [plain, `${plain}.xz`, `${plain}.gz`]) {
      const bytes = await readFile(file);
      const { stream, result } = inspectingStream(
        createReadStream(file, { highWaterMark: 256 * 1024 }),
        'unified',
      );
      const out = await drain(stream);
      const digest = createHash('sha256').update(bytes).digest('hex');
      expect(createHash('sha256').update(out).digest('hex'), file).toBe(digest);
      expect((await result).sha256).toBe(digest);
      expect((await result).contents).toEqual({ rootfsDir: true, rootfsImg: false, entries: 3 });
    }
  });

  it('keeps memory bounded with a slow reader (200 MB) and reads no further ahead than it must', async () => {
    const total = 200;
    const mib = 1024 * 1024;
    const head = rawTar([
      { path: 'metadata.yaml', content: METADATA },
      { path: 'rootfs/', type: '5' },
      { path: 'rootfs/big', content: Buffer.alloc(0) },
    ]).subarray(0, 3 * 512);
    // Make rootfs/big 200 MiB long (its size field, then its checksum).
    const header = head.subarray(1024, 1536);
    header.write(`${(total * mib).toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    header.write('        ', 148, 'ascii');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    let produced = 0;
    let consumed = 0;
    let lead = 0;
    const source = Readable.from(
      (function* () {
        yield head;
        for (let i = 0; i < total; i++) {
          // Fresh memory every time: anything buffered shows in the RSS.
          const chunk = Buffer.allocUnsafe(mib).fill(i);
          produced += chunk.length;
          yield chunk;
        }
        yield Buffer.alloc(1024);
      })(),
    );
    collectGarbage();
    const before = process.memoryUsage().rss;
    let peak = before;
    const started = Date.now();
    const { stream, result } = inspectingStream(source, 'unified');
    let writes = 0;
    await pipeline(
      stream,
      new Writable({
        highWaterMark: 64 * 1024,
        write(chunk: Buffer, _encoding, done) {
          consumed += chunk.length;
          lead = Math.max(lead, produced - consumed);
          if (++writes % 8 === 0) {
            collectGarbage();
            peak = Math.max(peak, process.memoryUsage().rss);
          }
          // A slow reader: every chunk waits for the next turn of the event loop.
          setImmediate(done);
        },
      }),
    );
    await result;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(consumed).toBe(total * mib + 3 * 512 + 1024);
    expect(lead).toBeLessThan(8 * mib);
    expect(peak - before).toBeLessThan(64 * mib);
  }, 20_000);

  it('stops at a bad entry early in the file: the stream errors before the source is read', async () => {
    const hostile = rawTar([
      { path: 'metadata.yaml', content: METADATA },
      { path: 'rootfs/', type: '5' },
      { path: 'rootfs/../../etc/passwd', content: 'x' },
    ]).subarray(0, 4 * 512);
    for (const compression of ['none', 'gzip', 'xz'] as const) {
      // The hostile start of a tarball, then 64 MiB more.
      const rest = Buffer.alloc(1024 * 1024);
      let start = hostile;
      if (compression === 'gzip') start = gzipSync(Buffer.concat([hostile, rest]));
      if (compression === 'xz') {
        const path = join(dir, `early-${compression}.tar`);
        await writeFile(path, Buffer.concat([hostile, rest]));
        await run('xz', ['-f', '-0', path]);
        start = await readFile(`${path}.xz`);
      }
      let produced = 0;
      const source = Readable.from(
        (function* () {
          // Compressed: a whole stream (the bad entry is in it), then more bytes that never come.
          yield start;
          for (let i = 0; i < 64; i++) {
            produced += 1;
            yield randomBytes(1024 * 1024);
          }
        })(),
      );
      const { stream, result } = inspectingStream(source, 'unified', { name: 'hostile.tar' });
      let passed = 0;
      const failed = new Promise<unknown>((resolve) => {
        stream.on('error', resolve);
        stream.on('data', (chunk: Buffer) => (passed += chunk.length));
      });
      const error = await refusal(result);
      expect(error.message).toMatch(/hostile\.tar contains rootfs\/\.\.\/\.\.\/etc\/passwd/);
      expect(await failed).toBe(error);
      expect(stream.destroyed).toBe(true);
      expect(produced, compression).toBeLessThan(8);
      expect(passed).toBeLessThan(16 * 1024 * 1024);
      expect(source.destroyed).toBe(true);
    }
  });

  it('is cancelled by its signal, even while the source is silent', async () => {
    const controller = new AbortController();
    const source = new Readable({ read: () => undefined });
    source.push(
      rawTar([
        { path: 'metadata.yaml', content: METADATA },
        { path: 'rootfs/', type: '5' },
      ]).subarray(0, 1024),
    );
    const { stream, result } = inspectingStream(source, 'unified', {
      name: 'slow.tar',
      signal: controller.signal,
    });
    const errored = new Promise<unknown>((resolve) => stream.on('error', resolve));
    stream.resume();
    setTimeout(() => controller.abort(), 50);
    const error = await refusal(result);
    expect(error).toMatchObject({ code: 'cancelled', message: 'Reading slow.tar was cancelled.' });
    expect(await errored).toBe(error);
    expect(source.destroyed).toBe(true);
  });

  it('is cancelled at once by a signal that already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    const { stream, result } = inspectingStream(Readable.from([Buffer.alloc(1024)]), 'rootfs', {
      signal: controller.signal,
    });
    const errored = new Promise<unknown>((resolve) => stream.on('error', resolve));
    await expect(result).rejects.toMatchObject({ code: 'cancelled' });
    await expect(errored).resolves.toMatchObject({ code: 'cancelled' });
  });

  it('settles when its reader goes away before the end', async () => {
    const source = new Readable({ read: () => undefined });
    source.push(rawTar([{ path: 'metadata.yaml', content: METADATA }]).subarray(0, 1024));
    const { stream, result } = inspectingStream(source, 'unified');
    stream.on('error', () => undefined);
    setTimeout(() => stream.destroy(), 20);
    await expect(result).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('reports the progress of every byte read', async () => {
    const good0 = good[0]?.files[0] ?? '';
    let read = 0;
    const inspection = await inspectFile(good0, 'unified', { onBytes: (count) => (read += count) });
    expect(read).toBe(inspection.size);
  });

  it('names the package to install when a decompressor is missing', async () => {
    const xz = good.find((image) => image.name === 'unified.tar.xz')?.files[0] ?? '';
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'no-tools-here');
    try {
      await expect(inspectFile(xz, 'unified')).rejects.toThrow(
        /unified\.tar\.xz is xz-compressed, and reading it needs the xz command, which is not installed: install the xz-utils package/,
      );
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('tar entries', () => {
  it('accepts device files, fifos and links that stay inside the image', async () => {
    const tar = rawTar([
      { path: 'metadata.yaml', content: METADATA },
      { path: 'rootfs/', type: '5' },
      { path: 'rootfs/dev/', type: '5' },
      { path: 'rootfs/dev/console', type: '3' },
      { path: 'rootfs/dev/sda', type: '4' },
      { path: 'rootfs/run/initctl', type: '6' },
      { path: 'rootfs/lib', type: '2', linkTarget: 'usr/lib' },
      { path: 'rootfs/usr/lib/os-release', content: 'ID=test\n' },
      { path: 'rootfs/etc/os-release', type: '2', linkTarget: '../usr/lib/os-release' },
      { path: 'rootfs/etc/resolv.conf', type: '2', linkTarget: '/run/systemd/resolve/stub' },
      {
        path: 'rootfs/usr/lib/os-release.hard',
        type: '1',
        linkTarget: 'rootfs/usr/lib/os-release',
      },
      // A link replaced by a file, then written under: no longer a link.
      { path: 'rootfs/opt', type: '2', linkTarget: '/srv' },
      { path: 'rootfs/opt', type: '5' },
      paxPath(`rootfs/${'long/'.repeat(40)}file`),
      { path: 'rootfs/placeholder', content: 'pax names it' },
    ]);
    const { stream, result } = inspectingStream(Readable.from([gzipSync(tar)]), 'unified');
    stream.resume();
    await expect(result).resolves.toMatchObject({ contents: { entries: 14 } });
  });

  it('parses the same entries whatever the chunk sizes (GNU, pax and ustar long names)', async () => {
    const root = join(dir, 'chunks');
    const long = `${'d'.repeat(90)}/${'f'.repeat(90)}`;
    await mkdir(join(root, 'x', 'd'.repeat(90)), { recursive: true });
    await writeFile(join(root, 'x', long), randomBytes(3000));
    for (const format of ['gnu', 'pax', 'ustar']) {
      const { stdout } = await run(
        'tar',
        ['-C', root, '-c', `--format=${format}`, '-f', '-', 'x'],
        { encoding: 'buffer', maxBuffer: 1024 * 1024 },
      );
      const parse = (size: number) => {
        const entries: TarEntry[] = [];
        const parser = new TarParser(
          { entry: (entry) => (entries.push(entry), 0) },
          { name: 'x.tar', compression: 'none' },
        );
        for (let at = 0; at < stdout.length; at += size)
          parser.push(stdout.subarray(at, at + size));
        parser.end();
        return entries.map((entry) => `${entry.type} ${entry.path} ${entry.size}`);
      };
      const whole = parse(stdout.length);
      expect(whole, format).toEqual([
        'directory x/ 0',
        `directory x/${'d'.repeat(90)}/ 0`,
        `file x/${long} 3000`,
      ]);
      expect(parse(1), format).toEqual(whole);
      expect(parse(511), format).toEqual(whole);
    }
  });

  it('refuses a checksum mismatch as not a tarball, and says so for a compressed one', () => {
    const tar = rawTar([{ path: 'a', content: 'x' }]);
    tar[0] = 0x62;
    const parser = new TarParser({ entry: () => 0 }, { name: 'x.tar.gz', compression: 'gzip' });
    expect(() => parser.push(tar)).toThrow(
      /x\.tar\.gz is gzip-compressed, but what it contains is not a tarball/,
    );
  });
});

describe('metadata.yaml', () => {
  it('is read as LXD reads it (YAML 1.1, scalars kept as written, merge keys, first document)', () => {
    const metadata = parseMetadataYaml(
      Buffer.from(
        [
          'base: &base',
          '  os: Ubuntu',
          'architecture: amd64 (64-bit)',
          'creation_date: 1700000000.75',
          'expiry_date: 1800000000',
          'properties:',
          '  <<: *base',
          '  release: 22.10',
          '  lts: yes',
          '  serial:',
          'templates:',
          '  /etc/hostname:',
          '    when: [create, copy]',
          '    create_only: yes',
          '    template: hostname.tpl',
          '    properties: {default: 1.10}',
          '  /etc/empty:',
          '---',
          'architecture: z80',
        ].join('\n'),
      ),
      'x.tar',
    );
    expect(metadata).toEqual({
      architecture: 'amd64',
      creationDate: 1_700_000_000,
      expiryDate: 1_800_000_000,
      properties: { os: 'Ubuntu', release: '22.10', lts: 'yes', serial: '' },
      templates: {
        '/etc/hostname': {
          when: ['create', 'copy'],
          template: 'hostname.tpl',
          createOnly: true,
          properties: { default: '1.10' },
        },
        '/etc/empty': { when: [], template: '' },
      },
    });
  });

  it('accepts the architectures of newer LXD releases', () => {
    expect(
      parseMetadataYaml(Buffer.from('architecture: loongarch64\ncreation_date: 1\n'), 'x')
        .architecture,
    ).toBe('loongarch64');
  });
});

describe('formats and file pairs', () => {
  it('detects each format from its first bytes', () => {
    const at257 = (magic: string) => {
      const head = Buffer.alloc(512);
      head.write(magic, 257, 'latin1');
      return head;
    };
    expect(detectFormat(Buffer.from([0x1f, 0x8b, 8]))).toEqual({
      kind: 'tarball',
      compression: 'gzip',
    });
    expect(detectFormat(Buffer.from('BZh91AY', 'latin1'))?.kind).toBe('tarball');
    expect(detectFormat(Buffer.from('\xfd7zXZ\0', 'latin1'))).toEqual({
      kind: 'tarball',
      compression: 'xz',
    });
    expect(detectFormat(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toEqual({
      kind: 'tarball',
      compression: 'zstd',
    });
    expect(detectFormat(Buffer.from([0x5d, 0, 0, 0x80, 0]))).toEqual({
      kind: 'tarball',
      compression: 'lzma',
    });
    expect(detectFormat(Buffer.from('hsqs', 'latin1'))).toEqual({ kind: 'squashfs' });
    expect(detectFormat(Buffer.from('QFI\xfb', 'latin1'))).toEqual({ kind: 'qcow2' });
    expect(detectFormat(at257('ustar\0'))).toEqual({ kind: 'tarball', compression: 'none' });
    expect(detectFormat(at257('ustar  '))).toEqual({ kind: 'tarball', compression: 'none' });
    expect(detectFormat(Buffer.alloc(512))).toBeUndefined();
    expect(detectFormat(Buffer.alloc(0))).toBeUndefined();
  });

  it('orders two files smaller first and refuses what is not a file', async () => {
    const small = join(dir, 'pair-small');
    const large = join(dir, 'pair-large');
    await writeFile(small, 'x');
    await writeFile(large, 'xx');
    await expect(orderSplitFiles([large, small])).resolves.toEqual([small, large]);
    await expect(orderSplitFiles([small, large])).resolves.toEqual([small, large]);
    await expect(orderSplitFiles([small, small])).rejects.toThrow(/pair-small was given twice/);
    await expect(orderSplitFiles([small, dir])).rejects.toThrow(
      /is a directory, not an image file/,
    );
    await expect(orderSplitFiles([small, join(dir, 'missing')])).rejects.toThrow(
      /missing does not exist/,
    );
    await expect(inspectFile('/dev/null', 'rootfs')).rejects.toThrow(/null is not a regular file/);
  });

  it('orders two files by content: the one with metadata.yaml or templates/ is the metadata, whatever the sizes', async () => {
    for (const image of good.filter((candidate) => candidate.files.length === 2)) {
      const [metadata, rootfs] = image.files as [string, string];
      expect(await peekSplitRole(metadata), image.name).toBe('metadata');
      expect(await peekSplitRole(rootfs), image.name).toBe('rootfs');
      await expect(orderSplitFiles([rootfs, metadata]), image.name).resolves.toEqual([
        metadata,
        rootfs,
      ]);
      await expect(orderSplitFiles([metadata, rootfs]), image.name).resolves.toEqual([
        metadata,
        rootfs,
      ]);
    }
    const fat = good.find((image) => image.name === 'split-fat-metadata');
    const [metadata = '', rootfs = ''] = fat?.files ?? [];
    expect((await readFile(metadata)).length).toBeGreaterThan((await readFile(rootfs)).length);
    // A rootfs that says nothing in its first entries, read to its end, is still no metadata;
    // what cannot be read at all tells nothing (then the size decides).
    const plain = join(dir, 'plain-rootfs.tar');
    await writeFile(plain, rawTar([{ path: 'hello', content: 'hi' }]));
    expect(await peekSplitRole(plain)).toBe('rootfs');
    const noise = join(dir, 'noise.bin');
    await writeFile(noise, randomBytes(4096));
    expect(await peekSplitRole(noise)).toBeUndefined();
    await expect(orderSplitFiles([plain, noise])).resolves.toEqual([noise, plain]);
  });
});
