/**
 * Web mode cannot hand the main process a file path: the browser streams the
 * dropped file's bytes over the bridge into a private staging folder (0700,
 * files 0600), and the import reads it from there like any file. Staged
 * files are deleted when their import ends and when Hangar starts or quits.
 *
 * An upload is reserved first (name and size), so a file that is too big,
 * one upload too many or a disk without room is refused with a message
 * before a byte is sent; its bytes then may not exceed the size reserved.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, statfs, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HangarError } from '../../shared/errors.js';

/** 64 GiB, 1.5 GiB, 300.0 MiB: sizes in messages. */
function sizeCell(bytes: number): string {
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

export interface StagedUpload {
  id: string;
  /** The name the user's file had, for X-LXD-filename and messages. */
  name: string;
  path: string;
  size: number;
}

export interface UploadLimits {
  /** The largest file accepted (64 GiB by default: larger than any image LXD serves). */
  maxBytes: number;
  /** Uploads reserved or sending at once (a split image is two). */
  maxConcurrent: number;
  /** Room left on the staging disk after every reserved upload, so the disk never fills. */
  minFreeBytes: number;
  /** A reservation whose bytes do not start within this time is dropped. */
  reservationMs: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxBytes: 64 * 1024 ** 3,
  maxConcurrent: 4,
  minFreeBytes: 1024 ** 3,
  reservationMs: 60_000,
};

/** Why an upload was refused: the bridge answers with `status` (413, 429, 507…). */
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

interface Reservation {
  name: string;
  size: number;
  timer: NodeJS.Timeout | undefined;
  receiving: boolean;
}

export type FreeSpace = (dir: string) => Promise<number>;

const freeSpace: FreeSpace = async (dir) => {
  const info = await statfs(dir);
  return info.bavail * info.bsize;
};

export class StagedUploads {
  private readonly uploads = new Map<string, StagedUpload>();
  private readonly reserved = new Map<string, Reservation>();
  private ready: Promise<void> | undefined;
  readonly limits: UploadLimits;

  constructor(
    private readonly dir: string,
    limits: Partial<UploadLimits> = {},
    private readonly free: FreeSpace = freeSpace,
  ) {
    this.limits = { ...DEFAULT_UPLOAD_LIMITS, ...limits };
  }

  private prepare(): Promise<void> {
    // What a crashed session left is removed once, before the first upload.
    this.ready ??= rm(this.dir, { recursive: true, force: true }).then(async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    });
    return this.ready;
  }

  /** Room for one file, refused before its bytes are sent; the id then takes its bytes. */
  async reserve(name: string, size: number): Promise<string> {
    const { maxBytes, maxConcurrent, minFreeBytes, reservationMs } = this.limits;
    if (size > maxBytes)
      throw new UploadRefused(
        `${name} is ${sizeCell(size)}; web mode takes files up to ${sizeCell(maxBytes)} (HANGAR_UPLOAD_MAX_BYTES).`,
        413,
      );
    if (this.reserved.size >= maxConcurrent)
      throw new UploadRefused(
        `Hangar is already receiving ${this.reserved.size} files; send ${name} when one of them is done.`,
        429,
      );
    await this.prepare();
    const pending = [...this.reserved.values()].reduce((sum, entry) => sum + entry.size, 0);
    const available = await this.free(this.dir);
    if (available - pending - size < minFreeBytes)
      throw new UploadRefused(
        `Not enough disk space for ${name} (${sizeCell(size)}): ${sizeCell(Math.max(0, available - pending))} free where Hangar stages uploads (${this.dir}), and ${sizeCell(minFreeBytes)} must stay free.`,
        507,
      );
    // Checked again after the await: two reservations may have raced.
    if (this.reserved.size >= maxConcurrent)
      throw new UploadRefused(
        `Hangar is already receiving ${this.reserved.size} files; send ${name} when one of them is done.`,
        429,
      );
    const id = randomUUID();
    const timer = setTimeout(() => {
      const entry = this.reserved.get(id);
      if (entry !== undefined && !entry.receiving) this.reserved.delete(id);
    }, reservationMs);
    timer.unref();
    this.reserved.set(id, { name: basename(name) || id, size, timer, receiving: false });
    return id;
  }

  /** A reserved upload's bytes: exactly the size reserved, streamed to disk, never held in memory. */
  async receive(id: string, body: Readable): Promise<StagedUpload> {
    const reservation = this.reserved.get(id);
    if (reservation === undefined || reservation.receiving)
      throw new UploadRefused('That upload was not reserved, or its time ran out: try again.', 404);
    reservation.receiving = true;
    clearTimeout(reservation.timer);
    const { name, size: expected } = reservation;
    const path = join(this.dir, id);
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > expected)
          callback(
            new UploadRefused(`${name} is larger than the ${sizeCell(expected)} announced.`, 413),
          );
        else callback(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
      if (size !== expected)
        throw new UploadRefused(
          `${name} ended after ${sizeCell(size)} of ${sizeCell(expected)}.`,
          400,
        );
    } catch (error) {
      await unlink(path).catch(() => undefined);
      if (error instanceof UploadRefused) throw error;
      throw new HangarError('cancelled', `The upload of ${name} stopped before its end.`, {
        cause: error,
      });
    } finally {
      this.reserved.delete(id);
    }
    const upload = { id, name, path, size };
    this.uploads.set(id, upload);
    return upload;
  }

  /** Reserve and receive in one step (tests, and callers that already know the size). */
  async stage(name: string, body: Readable, size: number): Promise<StagedUpload> {
    return this.receive(await this.reserve(name, size), body);
  }

  get(id: string): StagedUpload {
    const upload = this.uploads.get(id);
    if (upload === undefined)
      throw new HangarError('not-found', 'That uploaded file is gone: drop it again.');
    return upload;
  }

  async release(id: string): Promise<void> {
    const upload = this.uploads.get(id);
    this.uploads.delete(id);
    if (upload !== undefined) await unlink(upload.path).catch(() => undefined);
  }

  async close(): Promise<void> {
    for (const entry of this.reserved.values()) clearTimeout(entry.timer);
    this.reserved.clear();
    this.uploads.clear();
    if (this.ready !== undefined) await rm(this.dir, { recursive: true, force: true });
  }
}
