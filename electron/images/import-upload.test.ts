/**
 * Web mode's imports: the browser's upload goes straight through the
 * inspector into a real LXD, in one pass, over the real bridge. A file
 * refused mid-upload, or a cancel, leaves nothing in LXD and the PUT is
 * answered with the import's error; the upload limits still refuse.
 */
import { randomBytes } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { OperationSummary } from '../../shared/contract.js';
import type { Envelope } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { rawTar, writeGoodImages, type GoodImage } from '../../scripts/image-corpus/bad-images.js';
import { deleteProject } from '../../scripts/sandbox/projects.js';
import { startBridge, type Bridge } from '../bridge/server.js';
import { dispatch } from '../dispatch.js';
import { createHangar, type Hangar } from '../hangar.js';
import { watchOperation } from '../operations/watch.js';
import { plaintextCodec } from '../remotes/identity.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const project = `uploads-${process.pid}`;

let dir: string;
let hangar: Hangar;
let bridge: Bridge;
let good: GoodImage[];

async function call<T>(name: string, input: unknown): Promise<T> {
  const envelope = (await dispatch(hangar.handlers, name, input, 'web')) as Envelope<T>;
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

const fingerprints = async () =>
  (await call<LxdImage[]>('images.list', { remote: 'local', project }))
    .map((image) => image.fingerprint)
    .sort();

interface Answer {
  status: number;
  body: string;
}

function http(
  method: string,
  path: string,
  body: Buffer | AsyncIterable<Buffer>,
  headers: Record<string, string | number>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, bridge.origin);
    const req = request(url, {
      method,
      headers: { authorization: `Bearer ${bridge.token}`, ...headers },
    });
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else
      void (async () => {
        for await (const chunk of body)
          if (!req.write(chunk)) await new Promise((ok) => req.once('drain', ok));
        req.end();
      })().catch(reject);
  });
}

const reserve = (name: string, size: number) =>
  http('POST', '/api/upload', Buffer.from(JSON.stringify({ name, size })), {
    'content-type': 'application/json',
  });

async function reserved(name: string, size: number): Promise<string> {
  const answer = JSON.parse((await reserve(name, size)).body) as Envelope<{ upload: string }>;
  if (!answer.ok) throw new Error(answer.error.message);
  return answer.value.upload;
}

const put = (id: string, body: Buffer | AsyncIterable<Buffer>, size: number) =>
  http('PUT', `/api/upload/${id}`, body, {
    'content-type': 'application/octet-stream',
    'content-length': size,
  });

const importUploads = (ids: string[]) =>
  call<OperationSummary>('images.importFiles', {
    remote: 'local',
    project,
    files: ids.map((upload) => ({ upload })),
    aliases: [],
    public: false,
    properties: {},
  });

const settle = (started: OperationSummary) =>
  watchOperation(hangar.handlers, started.id, { timeoutMs: 60_000 });

/** Sends `data` in 64 KiB pieces, waiting on `gate` before the piece at `pauseAt`. */
async function* pieces(data: Buffer, pauseAt = Infinity, gate?: Promise<void>) {
  for (let at = 0; at < data.length; at += 64 * 1024) {
    if (at >= pauseAt && gate !== undefined) {
      await gate;
      gate = undefined;
    }
    yield data.subarray(at, at + 64 * 1024);
  }
}

/** A plain tarball: valid metadata, a big file, then an entry that leaves the image. */
function badTarball(): Buffer {
  return rawTar([
    { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1700000000\n' },
    { path: 'rootfs/', type: '5' },
    { path: 'rootfs/big', content: randomBytes(8 * 1024 * 1024) },
    { path: 'rootfs/../../evil', content: 'x' },
  ]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-uploads-'));
  good = await writeGoodImages(join(dir, 'good'));
  await run('lxc', ['project', 'create', project, '-c', 'features.profiles=false'], {
    env: { ...process.env, LXD_DIR: sandbox.localDir },
  });
  hangar = await createHangar({
    env: {
      LXD_DIR: sandbox.localDir,
      HOME: dir,
      HANGAR_UPLOAD_MAX_BYTES: String(128 * 1024 * 1024),
      HANGAR_UPLOAD_MAX_CONCURRENT: '2',
    },
    dataDir: join(dir, 'data'),
    secrets: plaintextCodec('test'),
  });
  bridge = await startBridge({ hangar, staticDir: dir });
});

afterAll(async () => {
  await bridge.close();
  await hangar.close();
  await deleteProject(sandbox.localDir, project);
  await rm(dir, { recursive: true, force: true });
});

describe('imports from the browser', () => {
  it('streams unified and split images into LXD, the PUT answered once the import ended', async () => {
    for (const name of ['unified.tar.gz', 'split-xz-gz']) {
      const image = good.find((candidate) => candidate.name === name);
      if (image === undefined) throw new Error(`no ${name} in the corpus`);
      const files = await Promise.all(image.files.map((path) => readFile(path)));
      // Dropped in the reverse order: the content decides which is the metadata.
      const order = files.length === 2 ? [1, 0] : [0];
      const ids: string[] = [];
      for (const index of order)
        ids.push(await reserved(`file-${index}`, files[index]?.length ?? 0));
      const puts = order.map((index, at) => {
        const bytes = files[index] ?? Buffer.alloc(0);
        return put(ids[at] ?? '', pieces(bytes), bytes.length);
      });
      const done = await settle(await importUploads(ids));
      expect(done.error, name).toBeUndefined();
      expect(done.result).toEqual({ remote: 'local', project, fingerprint: image.fingerprint });
      for (const answer of await Promise.all(puts)) {
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.body)).toMatchObject({ ok: true });
      }
      if (files.length === 2) expect(done.command).toMatch(/file-0 file-1/);
    }
    expect(await fingerprints()).toHaveLength(2);
  });

  it('refuses a bad file mid-upload: nothing in LXD, and the PUT gets the error', async () => {
    const before = await fingerprints();
    const bytes = badTarball();
    const id = await reserved('evil.tar', bytes.length);
    // The import asked for first, the bytes after: either order works.
    const started = await importUploads([id]);
    const answer = await put(id, pieces(bytes), bytes.length);
    const done = await settle(started);
    expect(done.state).toBe('failed');
    expect(done.error?.code).toBe('invalid-image');
    expect(done.error?.message).toMatch(/evil/);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({
      ok: false,
      error: { code: 'invalid-image', message: done.error?.message },
    });
    expect(await fingerprints()).toEqual(before);
  });

  it('cancels mid-upload: nothing in LXD, and the PUT gets the cancel', async () => {
    const before = await fingerprints();
    // Enough bytes that the import is still waiting for them when it is cancelled.
    const bytes = rawTar([
      { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1700000000\n' },
      { path: 'rootfs/', type: '5' },
      { path: 'rootfs/big', content: randomBytes(6 * 1024 * 1024) },
    ]);
    const id = await reserved('slow.tar.gz', bytes.length);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const answered = put(id, pieces(bytes, 2 * 1024 * 1024, gate), bytes.length);
    const started = await importUploads([id]);
    for (let i = 0; i < 100; i++) {
      const [summary] = (await call<OperationSummary[]>('operations.list', {})).filter(
        (operation) => operation.id === started.id,
      );
      if ((summary?.progress?.processed ?? 0) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await call('operations.cancel', { id: started.id });
    open();
    const done = await settle(started);
    expect(done.state).toBe('cancelled');
    const answer = await answered;
    expect(JSON.parse(answer.body)).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(await fingerprints()).toEqual(before);
  });

  it("keeps the upload limits: size cap, concurrency, the bytes announced, and the cap on a split image's metadata", async () => {
    const tooBig = await reserve('huge.tar.xz', 129 * 1024 * 1024);
    expect(tooBig.status).toBe(413);
    const first = await reserved('a.tar', 10);
    const second = await reserved('b.tar', 10);
    expect((await reserve('c.tar', 10)).status).toBe(429);
    const over = await put(first, Buffer.alloc(5000), 5000);
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body)).toMatchObject({
      ok: false,
      error: { message: 'a.tar is larger than the 10 bytes announced.' },
    });
    // The refused upload freed its place; the other is freed when its import ends.
    const failed = importUploads([second]);
    const short = put(second, Buffer.alloc(10), 10);
    const done = await settle(await failed);
    expect(done.state).toBe('failed');
    expect(JSON.parse((await short).body)).toMatchObject({ ok: false });
    const again = await reserved('d.tar', 10);
    hangar.uploads.settle(again);
    // A split image's smaller file is held in memory while the other streams: it is capped,
    // and refused before a byte is sent.
    const [big, bigger] = [
      await reserved('big.tar', 65 * 1024 * 1024),
      await reserved('bigger.tar', 66 * 1024 * 1024),
    ];
    await expect(importUploads([big, bigger])).rejects.toThrow(
      /^invalid-image: Neither big\.tar nor bigger\.tar is a split image's metadata file: in web mode it may be at most 64 MiB/,
    );
    expect((await put(big, Buffer.alloc(1), 1)).status).toBe(404);
  });
});
