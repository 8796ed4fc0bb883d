/**
 * `lxc image export` as a browser download (web mode), against a stand-in
 * LXD: the bytes reach the sink as LXD sends them, a split image as one tar
 * holding both files, and a download whose fingerprint does not match never
 * gets its last bytes: it is cut, so the browser marks it failed.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { HangarErrorData } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { EventHub } from '../event-hub.js';
import { Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { downloadExport, type DownloadSink } from './export.js';
import { tarHeader } from './tar-writer.js';

const run = promisify(execFile);
const sha256 = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

interface Export {
  headers: Record<string, string>;
  chunks: Buffer[];
}

function standIn(image: Pick<LxdImage, 'fingerprint' | 'size'>, answer: Export): RemoteRegistry {
  const client = {
    download: () =>
      Promise.resolve({
        statusCode: 200,
        headers: answer.headers,
        body: Readable.from(answer.chunks),
      }),
  };
  const connection = {
    getImage: () => Promise.resolve({ ...image, created_at: '2024-01-02T03:04:05Z' }),
    withClient: <T>(use: (c: typeof client) => Promise<T>) => use(client),
  };
  return { lxd: () => connection } as unknown as RemoteRegistry;
}

class Recorder implements DownloadSink {
  readonly stop = new AbortController();
  readonly signal = this.stop.signal;
  file: { name: string; size: number } | undefined;
  readonly received: Buffer[] = [];
  ended = false;
  failed: HangarErrorData | undefined;
  constructor(private readonly stopAfter = Infinity) {}
  start(file: { name: string; size: number }) {
    this.file = file;
  }
  write(chunk: Buffer) {
    this.received.push(chunk);
    if (this.received.length >= this.stopAfter) this.stop.abort();
    return Promise.resolve();
  }
  end() {
    this.ended = true;
    return Promise.resolve();
  }
  abort(error: HangarErrorData) {
    this.failed = error;
  }
  bytes() {
    return Buffer.concat(this.received);
  }
}

async function download(
  image: Pick<LxdImage, 'fingerprint' | 'size'>,
  answer: Export,
  sink: Recorder,
) {
  const operations = new Operations(new EventHub());
  const started = downloadExport(
    standIn(image, answer),
    operations,
    { remote: 'local', fingerprint: image.fingerprint },
    sink,
  );
  expect(started).toMatchObject({
    kind: 'export',
    command: `lxc image export local:${image.fingerprint} ./`,
  });
  return operations.settled(started.id);
}

const unified = Buffer.concat(Array.from({ length: 5 }, (_, i) => Buffer.alloc(1000, i + 1)));
const unifiedAnswer: Export = {
  headers: {
    'content-type': 'application/octet-stream',
    'content-disposition': 'attachment; filename="../../etc/image.tar.gz"',
  },
  chunks: Array.from({ length: 5 }, (_, i) => unified.subarray(i * 1000, (i + 1) * 1000)),
};

function splitAnswer(metadata: Buffer, rootfs: Buffer): Export {
  const boundary = 'hangar-test-boundary';
  const part = (name: string, filename: string) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
  const body = Buffer.concat([
    part('metadata', 'meta-abc.tar.xz'),
    metadata,
    Buffer.from('\r\n'),
    part('rootfs', 'abc.squashfs'),
    rootfs,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  // Chunks that split delimiters and headers anywhere.
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += 777) chunks.push(body.subarray(at, at + 777));
  return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, chunks };
}

describe('export as a browser download', () => {
  it('streams a unified image as LXD sends it, with its length and a safe name', async () => {
    const sink = new Recorder();
    const done = await download(
      { fingerprint: sha256(unified), size: unified.length },
      unifiedAnswer,
      sink,
    );
    expect(done.state).toBe('succeeded');
    expect(sink.file).toEqual({ name: 'image.tar.gz', size: unified.length });
    expect(sink.bytes().equals(unified)).toBe(true);
    expect(sink.ended).toBe(true);
    expect(sink.failed).toBeUndefined();
    expect(done.result).toMatchObject({ fingerprint: sha256(unified), files: ['image.tar.gz'] });
  });

  it('never completes a download whose fingerprint does not match: the last bytes are held back', async () => {
    const sink = new Recorder();
    const done = await download(
      { fingerprint: sha256(Buffer.from('other')), size: unified.length },
      unifiedAnswer,
      sink,
    );
    expect(done.state).toBe('failed');
    expect(done.error?.message).toMatch(
      /^The exported files do not match the image: their fingerprint is [0-9a-f]{64}, the image's/,
    );
    expect(sink.failed?.message).toBe(done.error?.message);
    expect(sink.ended).toBe(false);
    // Fewer bytes than announced: the browser cannot take it for a whole file.
    expect(sink.bytes().length).toBeLessThan(unified.length);
  });

  it('fails a download that runs past the image size without sending the extra bytes', async () => {
    const sink = new Recorder();
    const done = await download({ fingerprint: sha256(unified), size: 2500 }, unifiedAnswer, sink);
    expect(done.state).toBe('failed');
    expect(sink.ended).toBe(false);
    expect(sink.bytes().length).toBeLessThan(2500);
  });

  it('gives a split image as one tar holding both files, as LXD names them', async () => {
    const metadata = Buffer.alloc(1234, 0x4d);
    const rootfs = Buffer.alloc(70_000, 0x52);
    const fingerprint = sha256(metadata, rootfs);
    const sink = new Recorder();
    const done = await download(
      { fingerprint, size: metadata.length + rootfs.length },
      splitAnswer(metadata, rootfs),
      sink,
    );
    expect(done.state).toBe('succeeded');
    expect(sink.file).toEqual({ name: `${fingerprint}.split.tar`, size: sink.bytes().length });
    const dir = await mkdtemp(join(tmpdir(), 'hangar-download-'));
    try {
      await writeFile(join(dir, 'download.tar'), sink.bytes());
      await run('tar', ['-xf', 'download.tar'], { cwd: dir });
      expect((await readdir(dir)).sort()).toEqual([
        'abc.squashfs',
        'download.tar',
        'meta-abc.tar.xz',
      ]);
      const [meta, root] = await Promise.all([
        readFile(join(dir, 'meta-abc.tar.xz')),
        readFile(join(dir, 'abc.squashfs')),
      ]);
      expect(sha256(meta, root)).toBe(fingerprint);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cuts a split download whose fingerprint does not match before the archive ends', async () => {
    const metadata = Buffer.alloc(1234, 0x4d);
    const rootfs = Buffer.alloc(70_000, 0x52);
    const sink = new Recorder();
    const done = await download(
      { fingerprint: sha256(rootfs, metadata), size: metadata.length + rootfs.length },
      splitAnswer(metadata, rootfs),
      sink,
    );
    expect(done.state).toBe('failed');
    expect(sink.ended).toBe(false);
    expect(sink.bytes().length).toBeLessThan(sink.file?.size ?? 0);
  });

  it('stops the export when the browser stops the download', async () => {
    const sink = new Recorder(2);
    const done = await download(
      { fingerprint: sha256(unified), size: unified.length },
      unifiedAnswer,
      sink,
    );
    expect(done.state).toBe('cancelled');
    expect(sink.ended).toBe(false);
  });

  it('writes sizes past 8 GiB in the base-256 form GNU tar reads', () => {
    const size = 9 * 1024 ** 3 + 5;
    const header = tarHeader('rootfs.squashfs', size, 0);
    expect(header[124]).toBe(0x80);
    let read = 0n;
    for (let at = 125; at < 136; at++) read = (read << 8n) | BigInt(header[at] ?? 0);
    expect(Number(read)).toBe(size);
    let sum = 0;
    for (const [at, byte] of header.entries()) sum += at >= 148 && at < 156 ? 0x20 : byte;
    expect(header.subarray(148, 154).toString()).toBe(sum.toString(8).padStart(6, '0'));
  });
});
