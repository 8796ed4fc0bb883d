/**
 * Web mode cannot hand the main process a file path: the browser streams the
 * dropped file's bytes over the bridge into a private staging folder (0700,
 * files 0600), and the import reads it from there like any file. Staged
 * files are deleted when their import ends and when Hangar starts or quits.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { HangarError } from '../../shared/errors.js';

export interface StagedUpload {
  id: string;
  /** The name the user's file had, for X-LXD-filename and messages. */
  name: string;
  path: string;
  size: number;
}

export class StagedUploads {
  private readonly uploads = new Map<string, StagedUpload>();
  private ready: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

  private prepare(): Promise<void> {
    // What a crashed session left is removed once, before the first upload.
    this.ready ??= rm(this.dir, { recursive: true, force: true }).then(async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    });
    return this.ready;
  }

  async stage(name: string, body: Readable): Promise<StagedUpload> {
    await this.prepare();
    const id = randomUUID();
    const path = join(this.dir, id);
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    try {
      await pipeline(body, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    } catch (error) {
      await unlink(path).catch(() => undefined);
      throw new HangarError('cancelled', `The upload of ${name} stopped before its end.`, {
        cause: error,
      });
    }
    const upload = { id, name: basename(name) || id, path, size };
    this.uploads.set(id, upload);
    return upload;
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
    this.uploads.clear();
    if (this.ready !== undefined) await rm(this.dir, { recursive: true, force: true });
  }
}
