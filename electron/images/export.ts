/**
 * `lxc image export`: the image's files exactly as LXD stores them (one
 * unified tarball, or a metadata tarball and a rootfs), streamed into a
 * folder and checked against the fingerprint. Nothing is left behind when
 * it fails or is cancelled, and an existing file is never overwritten.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { basename, join } from 'node:path';
import type { CallInput, OperationSummary, StreamInput } from '../../shared/contract.js';
import { HangarError, type HangarErrorData } from '../../shared/errors.js';
import { exportCommand } from '../../shared/lxc-command.js';
import type { LxdImage } from '../../shared/lxd.js';
import { sizeCell } from '../../shared/images/format.js';
import { multipartBoundary, readMultipart, type PartSink } from '../lxd/multipart.js';
import type { OperationContext, Operations } from '../operations/registry.js';
import { PartialFile } from './partial-file.js';
import { tarEnd, tarHeader, tarPadding } from './tar-writer.js';
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

/** A file of LXD's export answer: the one file of a unified image, or a part of a split one. */
export interface ExportPart {
  role: 'unified' | 'metadata' | 'rootfs';
  /** The name LXD suggests (Content-Disposition, or the part's filename). */
  filename: string | undefined;
}

/**
 * Reads LXD's export answer (one octet stream, or a multipart metadata then
 * rootfs) into the sinks `open` gives for each file, in order.
 */
export async function readExportParts(
  response: Dispatcher.ResponseData,
  open: (part: ExportPart) => Promise<PartSink> | PartSink,
): Promise<void> {
  const contentType = response.headers['content-type'];
  const boundary = multipartBoundary(Array.isArray(contentType) ? contentType[0] : contentType);
  if (boundary === undefined) {
    const sink = await open({
      role: 'unified',
      filename: dispositionName(response.headers['content-disposition']),
    });
    for await (const chunk of response.body) await sink.write(chunk as Buffer);
    await sink.end();
    return;
  }
  // A part's sink is asked for synchronously, so names are checked before any byte is written.
  const sinks: Promise<PartSink>[] = [];
  await readMultipart(response.body as AsyncIterable<Buffer>, boundary, (part) => {
    const pending = Promise.resolve(
      open({ role: part.name === 'metadata' ? 'metadata' : 'rootfs', filename: part.filename }),
    );
    sinks.push(pending);
    return {
      write: async (chunk) => (await pending).write(chunk),
      end: async () => (await pending).end(),
    };
  });
  await Promise.all(sinks);
}

/** One exported file, hashed as it is written, under its final name once checked. */
class ExportFile extends PartialFile {
  constructor(
    readonly path: string,
    hash: ReturnType<typeof createHash>,
    onBytes: (count: number) => void,
  ) {
    super(`${path}.hangar-partial`, (chunk) => {
      hash.update(chunk);
      onBytes(chunk.length);
    });
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
      await readExportParts(response, ({ role, filename }) =>
        open(
          safeName(
            filename,
            role === 'unified'
              ? `${image.fingerprint}.tar`
              : role === 'metadata'
                ? `meta-${image.fingerprint}.tar`
                : `${image.fingerprint}.rootfs`,
          ),
        ),
      );
      const fingerprint = hash.digest('hex');
      if (fingerprint !== image.fingerprint)
        throw new HangarError(
          'lxd-error',
          `The exported files do not match the image: their fingerprint is ${fingerprint}, the image's ${image.fingerprint}. They were deleted.`,
        );
      for (const file of files) await file.commit(file.path);
      return files.map((file) => file.path);
    } catch (error) {
      // Aborting the request makes the body fail too; that is not news.
      response.body.on('error', () => undefined);
      response.body.destroy();
      await Promise.all(files.map((file) => file.discard()));
      if (signal.aborted) throw new HangarError('cancelled', 'The export was cancelled.');
      // A server lost mid-transfer is said as such (and marks the remote unreachable).
      throw client.transferFailure(error);
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

/**
 * Where a browser download goes (web mode): the bridge's HTTP response. The
 * export writes nothing on this machine; the browser keeps the file.
 */
export interface DownloadSink {
  /** Once, before the first byte: the file's name and its exact length. */
  start: (file: { name: string; size: number }) => void;
  /** Resolves when the bytes may go on (backpressure). */
  write: (chunk: Buffer) => Promise<void>;
  /** Every byte sent and checked: the download is complete. */
  end: () => Promise<void>;
  /** Fails the download in the browser: an error answer before the first byte, else the connection cut. */
  abort: (error: HangarErrorData) => void;
  /** Aborted when the browser stops the download (the user cancelled it, the page closed). */
  signal: AbortSignal;
}

/** Sends everything but the last chunk until `release`: the fingerprint decides whether it goes. */
class HeldBack {
  private held: Buffer | undefined;
  constructor(private readonly sink: DownloadSink) {}
  async write(chunk: Buffer): Promise<void> {
    const previous = this.held;
    this.held = chunk;
    if (previous !== undefined) await this.sink.write(previous);
  }
  async release(): Promise<void> {
    if (this.held !== undefined) await this.sink.write(this.held);
    this.held = undefined;
  }
}

/** A split image's metadata part is kept in memory to size the archive: it is small, and capped. */
const MAX_METADATA_BYTES = 64 * 1024 * 1024;

async function streamDownload(
  remotes: RemoteRegistry,
  input: StreamInput<'images.exportDownload'>,
  image: LxdImage,
  sink: DownloadSink,
  { signal, progress }: OperationContext,
): Promise<string> {
  const both = AbortSignal.any([signal, sink.signal]);
  return remotes.lxd(input.remote).withClient(async (client) => {
    const response = await client.download(`/1.0/images/${image.fingerprint}/export`, {
      project: input.project,
      signal: both,
    });
    const hash = createHash('sha256');
    const out = new HeldBack(sink);
    let read = 0;
    const count = (chunk: Buffer) => {
      // The browser stopped the download, or Cancel in the panel: stop reading from LXD.
      if (both.aborted) throw new HangarError('cancelled', 'The download was stopped.');
      hash.update(chunk);
      read += chunk.length;
      progress({
        stage: 'Downloading',
        processed: read,
        total: image.size,
        percent: image.size > 0 ? Math.min(100, (100 * read) / image.size) : undefined,
      });
    };
    let digest: string | undefined;
    const fingerprintOk = () => (digest ??= hash.digest('hex')) === image.fingerprint;
    const mismatch = () =>
      new HangarError(
        'lxd-error',
        digest === undefined
          ? `The exported files do not match the image ${image.fingerprint}: LXD sent other sizes than the image's. The download was stopped.`
          : `The exported files do not match the image: their fingerprint is ${digest}, the image's ${image.fingerprint}. The download was stopped.`,
      );
    try {
      const contentType = response.headers['content-type'];
      const boundary = multipartBoundary(Array.isArray(contentType) ? contentType[0] : contentType);
      let name: string;
      if (boundary === undefined) {
        name = safeName(
          dispositionName(response.headers['content-disposition']),
          `${image.fingerprint}.tar`,
        );
        sink.start({ name, size: image.size });
        for await (const chunk of response.body) {
          const buffer = chunk as Buffer;
          count(buffer);
          if (read > image.size) throw mismatch();
          await out.write(buffer);
        }
        if (read !== image.size || !fingerprintOk()) throw mismatch();
      } else {
        // One tar archive holding both files, as LXD names them: LXD sends the metadata
        // first, so its size (and with the image's size, the rootfs's) is known before the
        // archive's first byte.
        name = `${image.fingerprint}.split.tar`;
        const metadata: Buffer[] = [];
        let metadataName = `meta-${image.fingerprint}.tar`;
        let metadataSize = 0;
        let rootfsSize = 0;
        let rootfsSent = 0;
        let parts = 0;
        const mtime = Math.floor(Date.parse(image.created_at) / 1000) || 0;
        await readMultipart(response.body as AsyncIterable<Buffer>, boundary, (part) => {
          parts += 1;
          if (parts === 1) {
            metadataName = safeName(part.filename, metadataName);
            return {
              write: (chunk) => {
                count(chunk);
                metadataSize += chunk.length;
                if (metadataSize > MAX_METADATA_BYTES)
                  throw new HangarError('lxd-error', 'The metadata part of this image is too big.');
                metadata.push(chunk);
                return Promise.resolve();
              },
              end: () => Promise.resolve(),
            };
          }
          if (parts > 2)
            throw new HangarError('lxd-error', 'LXD sent more than two files for this image.');
          rootfsSize = image.size - metadataSize;
          if (rootfsSize < 0) throw mismatch();
          const rootfsName = safeName(part.filename, `${image.fingerprint}.rootfs`);
          sink.start({
            name,
            size:
              512 +
              metadataSize +
              tarPadding(metadataSize) +
              512 +
              rootfsSize +
              tarPadding(rootfsSize) +
              1024,
          });
          let started = false;
          const header = async () => {
            if (started) return;
            started = true;
            await sink.write(tarHeader(metadataName, metadataSize, mtime));
            for (const chunk of metadata) await sink.write(chunk);
            metadata.length = 0;
            await sink.write(Buffer.alloc(tarPadding(metadataSize)));
            await sink.write(tarHeader(rootfsName, rootfsSize, mtime));
          };
          return {
            write: async (chunk) => {
              await header();
              count(chunk);
              rootfsSent += chunk.length;
              if (rootfsSent > rootfsSize) throw mismatch();
              await out.write(chunk);
            },
            end: header,
          };
        });
        if (parts !== 2 || rootfsSent !== rootfsSize || !fingerprintOk()) throw mismatch();
        await out.write(Buffer.alloc(tarPadding(rootfsSize)));
        await out.write(tarEnd());
      }
      // Only now does the last chunk go: a download that failed its check is never complete.
      await out.release();
      await sink.end();
      return name;
    } catch (error) {
      response.body.on('error', () => undefined);
      response.body.destroy();
      if (sink.signal.aborted)
        throw new HangarError('cancelled', 'The browser stopped the download.');
      if (signal.aborted) throw new HangarError('cancelled', 'The export was cancelled.');
      throw error;
    }
  });
}

/**
 * `lxc image export` as a browser download (web mode): an operation like any
 * export, whose bytes go to the browser instead of a folder. A unified image
 * is its one file; a split image is one tar archive holding its two files.
 */
export function downloadExport(
  remotes: RemoteRegistry,
  operations: Operations,
  input: StreamInput<'images.exportDownload'>,
  sink: DownloadSink,
): OperationSummary {
  return operations.start(
    {
      kind: 'export',
      title: `Export ${input.remote}:${input.fingerprint.slice(0, 12)} as a download`,
      command: exportCommand({ ...input, directory: '.' }),
    },
    async (context) => {
      try {
        const image = await remotes.lxd(input.remote).getImage(input.fingerprint, input.project);
        context.progress({
          stage: `Downloading ${sizeCell(image.size)}`,
          processed: 0,
          total: image.size,
        });
        const name = await streamDownload(remotes, input, image, sink, context);
        return {
          remote: input.remote,
          project: input.project ?? 'default',
          fingerprint: image.fingerprint,
          files: [name],
          message: `Downloaded by the browser as ${name}`,
        };
      } catch (error) {
        sink.abort(HangarError.from(error).toData());
        throw error;
      }
    },
  );
}
