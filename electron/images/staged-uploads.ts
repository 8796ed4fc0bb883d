/**
 * Web mode cannot hand the main process a file path: the browser sends a
 * dropped file's bytes over the bridge, and they go straight through the
 * inspector into LXD as they arrive (nothing is written to disk here).
 *
 * An upload is reserved first (name and size), so a file that is too big or
 * one upload too many is refused with a message before a byte is sent. The
 * page then PUTs the bytes and asks for the import; whichever comes first
 * waits for the other. The PUT stays open until the import that took its
 * bytes ended: its answer is the import's outcome (a refused file, a
 * cancel). Its bytes may not exceed the size reserved, nor stop short of it.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { HangarError } from '../../shared/errors.js';

/** 64 GiB, 1.5 GiB, 300.0 MiB: sizes in messages. */
export function sizeCell(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0
    ? `${bytes} bytes`
    : `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** An upload an import took: its bytes arrive on `stream` as the browser sends them. */
export interface IncomingUpload {
  id: string;
  /** The name the user's file had, for X-LXD-filename and messages. */
  name: string;
  /** Bytes announced (and checked: the stream fails when it is not exactly that). */
  size: number;
  stream: Readable;
}

export interface UploadLimits {
  /** The largest file accepted (64 GiB by default: larger than any image LXD serves). */
  maxBytes: number;
  /** Uploads reserved or sending at once (a split image is two). */
  maxConcurrent: number;
  /** A reservation whose bytes (or import) do not come within this time is dropped. */
  reservationMs: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxBytes: 64 * 1024 ** 3,
  maxConcurrent: 4,
  reservationMs: 60_000,
};

/** Why an upload was refused: the bridge answers with `status` (404, 413, 429…). */
export class UploadRefused extends HangarError {
  constructor(
    message: string,
    readonly httpStatus: number,
  ) {
    super('invalid-input', message);
  }
}

/** Reads the limits from the environment (`HANGAR_UPLOAD_MAX_BYTES`, `HANGAR_UPLOAD_MAX_CONCURRENT`). */
export function uploadLimitsFromEnv(env: NodeJS.ProcessEnv): Partial<UploadLimits> {
  const positive = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new HangarError(
        'invalid-input',
        `${name} must be a positive whole number, not ${raw}.`,
      );
    return value;
  };
  const maxBytes = positive('HANGAR_UPLOAD_MAX_BYTES');
  const maxConcurrent = positive('HANGAR_UPLOAD_MAX_CONCURRENT');
  return {
    ...(maxBytes === undefined ? {} : { maxBytes }),
    ...(maxConcurrent === undefined ? {} : { maxConcurrent }),
  };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

interface Reservation {
  id: string;
  name: string;
  size: number;
  timer: NodeJS.Timeout | undefined;
  /** The bytes, once the PUT arrived. */
  body: Deferred<Readable>;
  receiving: boolean;
  taken: boolean;
  /** The import's outcome, which the PUT answers with. */
  outcome: Deferred<void>;
}

export class StagedUploads {
  private readonly reserved = new Map<string, Reservation>();
  private cleaned: Promise<void> | undefined;
  readonly limits: UploadLimits;

  /** `dir`: where older versions staged uploads; whatever they left there is removed. */
  constructor(
    readonly dir: string,
    limits: Partial<UploadLimits> = {},
  ) {
    this.limits = { ...DEFAULT_UPLOAD_LIMITS, ...limits };
  }

  private expire(entry: Reservation, why: string): void {
    if (this.reserved.get(entry.id) !== entry) return;
    const error = new UploadRefused(why, 408);
    entry.body.reject(error);
    entry.body.promise.then((stream) => stream.destroy(error)).catch(() => undefined);
    this.settle(entry.id, error);
  }

  private arm(entry: Reservation, why: string): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.expire(entry, why), this.limits.reservationMs);
    entry.timer.unref();
  }

  /** Room for one file, refused before its bytes are sent; the id then takes its bytes. */
  reserve(name: string, size: number): Promise<string> {
    const { maxBytes, maxConcurrent } = this.limits;
    this.cleaned ??= rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    if (size > maxBytes)
      return Promise.reject(
        new UploadRefused(
          `${name} is ${sizeCell(size)}; web mode takes files up to ${sizeCell(maxBytes)} (HANGAR_UPLOAD_MAX_BYTES).`,
          413,
        ),
      );
    if (this.reserved.size >= maxConcurrent)
      return Promise.reject(
        new UploadRefused(
          `Hangar is already receiving ${this.reserved.size} files; send ${name} when one of them is done.`,
          429,
        ),
      );
    const id = randomUUID();
    const entry: Reservation = {
      id,
      name: basename(name) || id,
      size,
      timer: undefined,
      body: deferred(),
      receiving: false,
      taken: false,
      outcome: deferred(),
    };
    this.reserved.set(id, entry);
    this.arm(entry, `${entry.name} was reserved but never imported: drop it again.`);
    return Promise.resolve(id);
  }

  /**
   * A reserved upload's bytes (the PUT's body), handed to the import that takes
   * them. Resolves once that import succeeded, rejects with its error (or with
   * an UploadRefused: too many or too few bytes, no such upload).
   */
  receive(id: string, body: Readable): Promise<void> {
    const entry = this.reserved.get(id);
    if (entry === undefined || entry.receiving)
      return Promise.reject(
        new UploadRefused('That upload was not reserved, or its time ran out: try again.', 404),
      );
    entry.receiving = true;
    const { name, size: expected } = entry;
    let size = 0;
    const counter = new Transform({
      highWaterMark: 1024 * 1024,
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > expected)
          callback(
            new UploadRefused(`${name} is larger than the ${sizeCell(expected)} announced.`, 413),
          );
        else callback(null, chunk);
      },
      flush(callback) {
        if (size !== expected)
          callback(
            new UploadRefused(
              `${name} ended after ${sizeCell(size)} of ${sizeCell(expected)}.`,
              400,
            ),
          );
        else callback();
      },
    });
    const stopped = () => {
      if (!counter.writableEnded)
        counter.destroy(
          new HangarError('cancelled', `The upload of ${name} stopped before its end.`),
        );
    };
    body.once('aborted', stopped);
    body.once('error', stopped);
    body.once('close', () => {
      if (!body.readableEnded) stopped();
    });
    // pipe (not pipeline): a refused upload stops reading, but the request stays, to be answered.
    body.pipe(counter);
    counter.once('error', (error) => {
      body.unpipe(counter);
      if (error instanceof UploadRefused) this.settle(id, error);
    });
    entry.body.resolve(counter);
    if (!entry.taken) this.arm(entry, `${name} was sent but never imported: drop it again.`);
    return entry.outcome.promise;
  }

  /** A reserved upload's name (the user's) and size (announced). */
  describe(id: string): { name: string; size: number } {
    const entry = this.reserved.get(id);
    if (entry === undefined)
      throw new HangarError('not-found', 'That uploaded file is gone: drop it again.');
    return { name: entry.name, size: entry.size };
  }

  /** The upload's bytes for an import, once the browser sends them; only one import takes them. */
  async take(id: string, signal?: AbortSignal): Promise<IncomingUpload> {
    const entry = this.reserved.get(id);
    if (entry === undefined)
      throw new HangarError('not-found', 'That uploaded file is gone: drop it again.');
    if (entry.taken) throw new HangarError('invalid-input', `${entry.name} was given twice.`);
    entry.taken = true;
    this.arm(entry, `The bytes of ${entry.name} never came: drop it again.`);
    const aborted = new Promise<never>((_resolve, reject) => {
      const onAbort = () =>
        reject(new HangarError('cancelled', `The upload of ${entry.name} was cancelled.`));
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      void entry.body.promise.finally(() => signal?.removeEventListener('abort', onAbort));
    });
    aborted.catch(() => undefined);
    const stream = await Promise.race([entry.body.promise, aborted]);
    clearTimeout(entry.timer);
    return { id, name: entry.name, size: entry.size, stream };
  }

  /** The import that took (or would have taken) the upload ended: its PUT gets the answer. */
  settle(id: string, error?: unknown): void {
    const entry = this.reserved.get(id);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.reserved.delete(id);
    if (error === undefined) entry.outcome.resolve();
    else entry.outcome.reject(error);
    entry.body.promise
      .then((stream) => {
        if (error !== undefined && !stream.destroyed) stream.destroy();
      })
      .catch(() => undefined);
  }

  close(): Promise<void> {
    for (const entry of [...this.reserved.values()])
      this.expire(entry, 'Hangar is quitting: the upload was stopped.');
    return this.cleaned ?? Promise.resolve();
  }
}
