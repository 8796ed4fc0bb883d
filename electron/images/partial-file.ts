/**
 * A file written under a temporary name and moved into place only when it
 * is complete and checked: what every export into a folder writes with.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { link, unlink } from 'node:fs/promises';
import { HangarError } from '../../shared/errors.js';
import type { PartSink } from '../lxd/multipart.js';

export class PartialFile implements PartSink {
  private readonly stream: WriteStream;
  private readonly closed: Promise<void>;
  private error: HangarError | undefined;
  /** Where `commit` put it, so `discard` can take it back. */
  committed: string | undefined;

  /** `onChunk` sees every chunk before it is written (to hash and count it). */
  constructor(
    readonly partial: string,
    private readonly onChunk: (chunk: Buffer) => void,
  ) {
    this.stream = createWriteStream(this.partial, {
      flags: 'wx',
      mode: 0o644,
      highWaterMark: 4 * 1024 * 1024,
    });
    // Not events.once: it rejects on 'error', and nobody awaits the close of a file whose write
    // failed (a full disk), which would make that an unhandled rejection.
    this.closed = new Promise<void>((resolve) => this.stream.once('close', () => resolve()));
    // One listener for the file's life: a failed write is seen by the next write or the end.
    this.stream.on('error', (error) => {
      this.error = new HangarError('internal', `Cannot write ${this.partial}: ${error.message}`);
      this.stream.emit('drain');
    });
  }

  private check(): void {
    if (this.error !== undefined) throw this.error;
  }

  async write(chunk: Buffer): Promise<void> {
    this.check();
    this.onChunk(chunk);
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
    this.check();
  }

  async end(): Promise<void> {
    this.check();
    this.stream.end();
    await this.closed;
    this.check();
  }

  /** Hard link then unlink: unlike rename, it refuses to replace a file that appeared meanwhile. */
  async commit(path: string): Promise<void> {
    await link(this.partial, path);
    this.committed = path;
    await unlink(this.partial);
  }

  /** Removes the partial file, and the committed one if the whole export failed after all. */
  async discard(): Promise<void> {
    this.stream.destroy();
    await unlink(this.partial).catch(() => undefined);
    if (this.committed !== undefined) await unlink(this.committed).catch(() => undefined);
  }
}
