/**
 * sha256 off the main thread: an image's bytes (up to tens of GiB) are
 * hashed in a worker thread, so that hashing a big import never holds up
 * the event loop that serves IPC, the bridge and other remotes. One worker
 * for the process (started on first use; it keeps the process alive only
 * while a hash is open, until its dispose()), many hashes at once. Bytes
 * are batched (1 MiB) and handed over without a copy beyond the batch's;
 * `ready()` waits while the worker is behind by more than a few MiB, so
 * memory stays bounded. When no worker can be started, the hash runs here
 * as before.
 */
import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export interface StreamHash {
  update: (chunk: Buffer) => void;
  /** Resolves at once, or once the worker caught up enough (backpressure). */
  ready: () => Promise<void> | undefined;
  /** sha256 of everything fed so far, as hex; the hash goes on taking bytes. */
  digest: () => Promise<string>;
  /** Frees it (after its last digest). */
  dispose: () => void;
}

const BATCH = 1024 * 1024;
const MAX_BEHIND = 8 * 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (message) => {
  if (message.type === 'open') hashes.set(message.id, createHash('sha256'));
  else if (message.type === 'update') {
    hashes.get(message.id)?.update(new Uint8Array(message.bytes));
    // The batch goes back to be filled again: no allocation per batch on either side.
    parentPort.postMessage({ type: 'hashed', id: message.id, bytes: message.bytes }, [message.bytes]);
  } else if (message.type === 'digest') {
    const hash = hashes.get(message.id);
    parentPort.postMessage({ type: 'digest', id: message.id, seq: message.seq, hex: hash === undefined ? '' : hash.copy().digest('hex') });
  } else if (message.type === 'close') hashes.delete(message.id);
});
`;

type Reply =
  | { type: 'hashed'; id: number; bytes: ArrayBuffer }
  | { type: 'digest'; id: number; seq: number; hex: string };

interface Pending {
  behind: number;
  waiting: (() => void)[];
  digests: Map<number, { resolve: (hex: string) => void; reject: (error: Error) => void }>;
}

let worker: Worker | undefined;
let workerFailed = false;
let nextId = 1;
/** Batches the worker handed back, to fill again. */
const pool: ArrayBuffer[] = [];
const POOL = MAX_BEHIND / BATCH + 2;
const pending = new Map<number, Pending>();

function theWorker(): Worker | undefined {
  if (worker !== undefined || workerFailed) return worker;
  try {
    const started = new Worker(WORKER_SOURCE, { eval: true });
    started.on('message', (reply: Reply) => {
      if (reply.type === 'hashed' && reply.bytes.byteLength === BATCH && pool.length < POOL)
        pool.push(reply.bytes);
      const entry = pending.get(reply.id);
      if (entry === undefined) return;
      if (reply.type === 'hashed') {
        entry.behind -= reply.bytes.byteLength;
        if (entry.behind <= MAX_BEHIND / 2) for (const wake of entry.waiting.splice(0)) wake();
      } else {
        entry.digests.get(reply.seq)?.resolve(reply.hex);
        entry.digests.delete(reply.seq);
      }
    });
    started.on('error', (error) => {
      // A worker that died takes its hashes with it: those imports fail, new ones hash here.
      workerFailed = true;
      worker = undefined;
      for (const entry of pending.values()) {
        for (const { reject } of entry.digests.values()) reject(error);
        for (const wake of entry.waiting.splice(0)) wake();
      }
      pending.clear();
    });
    // Idle, the worker does not keep the process alive; an open hash does (createStreamHash).
    // After the listeners: adding a 'message' listener refs the worker again.
    started.unref();
    worker = started;
  } catch {
    workerFailed = true;
  }
  return worker;
}

/** sha256 in this thread: when no worker can run. */
function localHash(): StreamHash {
  const hash: Hash = createHash('sha256');
  return {
    update: (chunk) => hash.update(chunk),
    ready: () => undefined,
    digest: () => Promise.resolve(hash.copy().digest('hex')),
    dispose: () => undefined,
  };
}

export function createStreamHash(): StreamHash {
  const thread = theWorker();
  if (thread === undefined) return localHash();
  const id = nextId++;
  const entry: Pending = { behind: 0, waiting: [], digests: new Map() };
  pending.set(id, entry);
  // A digest awaited with nothing else to do still arrives: the process waits for it.
  if (pending.size === 1) thread.ref();
  thread.postMessage({ type: 'open', id });
  let batch: (Buffer & { buffer: ArrayBuffer }) | undefined;
  let filled = 0;
  let seq = 0;
  const flush = () => {
    if (batch === undefined || filled === 0) return;
    // A full batch is its own ArrayBuffer (new ArrayBuffer): handed over as it is.
    const bytes =
      filled === batch.buffer.byteLength
        ? batch.buffer
        : batch.buffer.slice(batch.byteOffset, batch.byteOffset + filled);
    thread.postMessage({ type: 'update', id, bytes }, [bytes]);
    entry.behind += filled;
    batch = undefined;
    filled = 0;
  };
  return {
    update(chunk) {
      let at = 0;
      while (at < chunk.length) {
        batch ??= Buffer.from(pool.pop() ?? new ArrayBuffer(BATCH));
        const count = chunk.copy(batch, filled, at);
        filled += count;
        at += count;
        if (filled === BATCH) flush();
      }
    },
    ready() {
      if (entry.behind <= MAX_BEHIND) return undefined;
      return new Promise((resolve) => entry.waiting.push(resolve));
    },
    digest() {
      flush();
      const asked = seq++;
      return new Promise((resolve, reject) => {
        entry.digests.set(asked, { resolve, reject });
        thread.postMessage({ type: 'digest', id, seq: asked });
      });
    },
    dispose() {
      if (!pending.delete(id)) return;
      thread.postMessage({ type: 'close', id });
      if (pending.size === 0) thread.unref();
    },
  };
}
