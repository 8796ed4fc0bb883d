/**
 * `lxc image export`: the image's files exactly as LXD stores them (one
 * unified tarball, or a metadata tarball and a rootfs), streamed into a
 * folder and checked against the fingerprint. Nothing is left behind when
 * it fails or is cancelled, and an existing file is never overwritten.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { link, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { once } from 'node:events';
import type { CallInput, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { exportCommand } from '../../shared/lxc-command.js';
import type { LxdImage } from '../../shared/lxd.js';
import { sizeCell } from '../../shared/images/format.js';
import { multipartBoundary, readMultipart, type PartSink } from '../lxd/multipart.js';
import type { OperationContext, Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';

/** LXD suggests file names; only a plain name is kept, never a path. */
function safeName(suggested: string | undefined, fallback: string): string {
  const name = basename(suggested ?? '').replace(/[^A-Za-z0-9._-]/g, '_');
  return name === '' || name === '.' || name === '..' ? fallback : name;
}

function dispositionName(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return /filename="?([^";]+)"?/i.exec(value ?? '')?.[1];
}

/** A file written under a temporary name, moved into place only when complete. */
class ExportFile implements PartSink {
  readonly partial: string;
  private readonly stream: WriteStream;
  private readonly closed: Promise<unknown>;
  private error: HangarError | undefined;

  constructor(
    readonly path: string,
    private readonly hash: ReturnType<typeof createHash>,
    private readonly onBytes: (count: number) => void,
  ) {
    this.partial = `${path}.hangar-partial`;
    this.stream = createWriteStream(this.partial, {
      flags: 'wx',
      mode: 0o644,
      highWaterMark: 4 * 1024 * 1024,
    });
    this.closed = once(this.stream, 'close');
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
    this.hash.update(chunk);
    this.onBytes(chunk.length);
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
  async commit(): Promise<void> {
    await link(this.partial, this.path);
    await unlink(this.partial);
  }

  async discard(): Promise<void> {
    this.stream.destroy();
    await unlink(this.partial).catch(() => undefined);
  }
}

async function mustNotExist(path: string): Promise<void> {
  const found = await stat(path).catch(() => undefined);
  if (found !== undefined)
    throw new HangarError(
      'conflict',
      `${path} already exists: Hangar does not overwrite files. Choose another folder or move it away.`,
    );
}

async function exportFiles(
  remotes: RemoteRegistry,
  input: CallInput<'images.export'>,
  image: LxdImage,
  { signal, progress }: OperationContext,
): Promise<string[]> {
  const directoryInfo = await stat(input.directory).catch(() => undefined);
  if (directoryInfo?.isDirectory() !== true)
    throw new HangarError('invalid-input', `${input.directory} is not a folder.`);
  return remotes.lxd(input.remote).withClient(async (client) => {
    const response = await client.download(`/1.0/images/${image.fingerprint}/export`, {
      project: input.project,
      signal,
    });
    const hash = createHash('sha256');
    const files: ExportFile[] = [];
    let written = 0;
    const onBytes = (count: number) => {
      written += count;
      progress({
        stage: 'Exporting',
        processed: written,
        total: image.size,
        percent: image.size > 0 ? Math.min(100, (100 * written) / image.size) : undefined,
      });
    };
    const open = async (name: string) => {
      const path = join(input.directory, name);
      await mustNotExist(path);
      const file = new ExportFile(path, hash, onBytes);
      files.push(file);
      return file;
    };
    try {
      const contentType = response.headers['content-type'];
      const boundary = multipartBoundary(Array.isArray(contentType) ? contentType[0] : contentType);
      if (boundary === undefined) {
        const file = await open(
          safeName(
            dispositionName(response.headers['content-disposition']),
            `${image.fingerprint}.tar`,
          ),
        );
        for await (const chunk of response.body) await file.write(chunk as Buffer);
        await file.end();
      } else {
        // Names are checked before writing: a part's sink is created synchronously.
        const sinks: Promise<ExportFile>[] = [];
        await readMultipart(response.body as AsyncIterable<Buffer>, boundary, (part) => {
          const fallback =
            part.name === 'metadata'
              ? `meta-${image.fingerprint}.tar`
              : `${image.fingerprint}.rootfs`;
          const pending = open(safeName(part.filename, fallback));
          sinks.push(pending);
          return {
            write: async (chunk) => (await pending).write(chunk),
            end: async () => (await pending).end(),
          };
        });
        await Promise.all(sinks);
      }
      const fingerprint = hash.digest('hex');
      if (fingerprint !== image.fingerprint)
        throw new HangarError(
          'lxd-error',
          `The exported files do not match the image: their fingerprint is ${fingerprint}, the image's ${image.fingerprint}. They were deleted.`,
        );
      for (const file of files) await file.commit();
      return files.map((file) => file.path);
    } catch (error) {
      // Aborting the request makes the body fail too; that is not news.
      response.body.on('error', () => undefined);
      response.body.destroy();
      await Promise.all(files.map((file) => file.discard()));
      if (signal.aborted) throw new HangarError('cancelled', 'The export was cancelled.');
      throw error;
    }
  });
}

export function exportImage(
  remotes: RemoteRegistry,
  operations: Operations,
  input: CallInput<'images.export'>,
): OperationSummary {
  const connection = remotes.lxd(input.remote);
  return operations.start(
    {
      kind: 'export',
      title: `Export ${input.remote}:${input.fingerprint.slice(0, 12)} to ${input.directory}`,
      command: exportCommand(input),
    },
    async (context) => {
      const image = await connection.getImage(input.fingerprint, input.project);
      context.progress({
        stage: `Exporting ${sizeCell(image.size)}`,
        processed: 0,
        total: image.size,
      });
      const files = await exportFiles(remotes, input, image, context);
      return {
        remote: input.remote,
        project: input.project ?? 'default',
        fingerprint: image.fingerprint,
        files,
      };
    },
  );
}
