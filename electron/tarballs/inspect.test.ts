import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  rawTar,
  writeBadImages,
  writeGoodImages,
  type BadImage,
  type GoodImage,
} from '../../scripts/image-corpus/bad-images.js';
import { inspectFile, inspectingStream, orderSplitFiles, type FileInspection } from './inspect.js';

let dir: string;
let bad: BadImage[];
let good: GoodImage[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-inspect-'));
  bad = await writeBadImages(join(dir, 'bad'));
  good = await writeGoodImages(join(dir, 'good'));
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

describe('the image inspector', () => {
  it('reads every kind of good image: format, metadata, templates and fingerprint', async () => {
    expect(good.map((image) => image.name)).toEqual([
      'unified.tar.gz',
      'unified.tar.xz',
      'split-xz-gz',
      'split-squashfs',
    ]);
    for (const image of good) {
      const inspected = await inspectImage(image.files);
      const bytes = await Promise.all(image.files.map((file) => readFile(file)));
      const hash = createHash('sha256');
      for (const part of bytes) hash.update(part);
      expect(hash.digest('hex')).toBe(image.fingerprint);
      for (const [index, inspection] of inspected.entries())
        expect(inspection.sha256).toBe(
          createHash('sha256')
            .update(bytes[index] ?? Buffer.alloc(0))
            .digest('hex'),
        );
      expect(inspected[0]?.metadata?.architecture).toBe(image.architecture);
      expect(inspected[0]?.templateFiles).toEqual(image.templates);
    }
    const [unified] = await inspectImage(good[0]?.files ?? []);
    expect(unified).toMatchObject({
      format: { kind: 'tarball', compression: 'gzip' },
      metadata: {
        creationDate: 1_700_000_000,
        templates: { '/etc/hostname': { when: ['create'], template: 'hostname.tpl' } },
      },
      contents: { rootfsDir: true, rootfsImg: false },
    });
    const squashfs = await inspectImage(good[3]?.files ?? []);
    expect(squashfs.map((file) => file.format)).toEqual([
      { kind: 'tarball', compression: 'zstd' },
      { kind: 'squashfs' },
    ]);
  });

  it('refuses each of the bad-image corpus with its specific error', async () => {
    expect(bad.length).toBeGreaterThanOrEqual(25);
    for (const image of bad) {
      const outcome = await inspectImage(image.files).then(
        () => 'accepted',
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      expect(outcome, image.name).toMatch(image.expected);
    }
  });

  it('passes every byte through unchanged', async () => {
    const body = gzipSync(
      rawTar([
        { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1\n' },
        { path: 'rootfs/blob', content: randomBytes(6 * 1024 * 1024) },
      ]),
    );
    const { stream, result } = inspectingStream(Readable.from([body]), 'unified');
    const out: Buffer[] = [];
    await pipeline(
      stream,
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          out.push(chunk);
          done();
        },
      }),
    );
    expect(Buffer.concat(out).equals(body)).toBe(true);
    expect((await result).sha256).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('stops the stream at a bad entry early in the file, before reading the rest', async () => {
    const hostile = rawTar([
      { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1\n' },
      { path: '../escape', content: 'x' },
    ]);
    let produced = 0;
    const source = Readable.from(
      (function* () {
        yield hostile.subarray(0, hostile.length - 1024);
        for (let i = 0; i < 1000; i++) {
          produced += 1;
          yield Buffer.alloc(64 * 1024);
        }
      })(),
    );
    const { stream, result } = inspectingStream(source, 'unified', { name: 'hostile.tar' });
    stream.resume();
    const failed = new Promise((resolve) => stream.on('error', resolve));
    await expect(result).rejects.toThrow(/escapes the image/);
    await failed;
    expect(produced).toBeLessThan(10);
  });

  it('keeps memory bounded when the reader is slow', async () => {
    const chunk = randomBytes(1024 * 1024);
    const header = rawTar([
      { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1\n' },
    ]).subarray(0, 1024);
    const total = 200;
    // A 200 MB tar entry: header, then the content in 1 MiB chunks.
    const entryHeader = rawTar([{ path: 'rootfs/big', content: Buffer.alloc(0) }]).subarray(0, 512);
    entryHeader.write(`${(total * chunk.length).toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    entryHeader.write('        ', 148, 'ascii');
    let sum = 0;
    for (const byte of entryHeader) sum += byte;
    entryHeader.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    const source = Readable.from(
      (function* () {
        yield header;
        yield entryHeader;
        for (let i = 0; i < total; i++) yield chunk;
        yield Buffer.alloc(1024);
      })(),
    );
    const before = process.memoryUsage().rss;
    let peak = before;
    const { stream, result } = inspectingStream(source, 'unified');
    await pipeline(
      stream,
      new Writable({
        highWaterMark: 64 * 1024,
        write(_chunk: Buffer, _encoding, done) {
          peak = Math.max(peak, process.memoryUsage().rss);
          setImmediate(done);
        },
      }),
    );
    await result;
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  }, 20_000);

  it('is cancelled by its signal', async () => {
    const controller = new AbortController();
    const source = Readable.from(
      (function* () {
        yield rawTar([
          { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1\n' },
        ]).subarray(0, 1024);
        controller.abort();
        yield Buffer.alloc(512);
      })(),
    );
    const { stream, result } = inspectingStream(source, 'unified', { signal: controller.signal });
    stream.on('error', () => undefined);
    stream.resume();
    await expect(result).rejects.toMatchObject({ code: 'cancelled' });
  });
});
