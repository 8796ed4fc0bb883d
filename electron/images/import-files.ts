/**
 * `lxc image import <tarball> [<rootfs>]`: the file(s) are read once, in one
 * streaming pass that inspects them (compression, metadata.yaml, unsafe
 * paths, fingerprint) while the bytes go to LXD. Anything wrong stops the
 * upload, and LXD keeps nothing of an upload that did not finish.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { CallInput, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { shortFingerprint } from '../../shared/images/format.js';
import { importCommand } from '../../shared/lxc-command.js';
import type { LxdClient } from '../lxd/client.js';
import { OperationError, type OperationContext, type Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import {
  createCombinedHash,
  detectFormat,
  imageFileSize,
  inspectingStream,
  orderSplitFiles,
  peekSplitRole,
  type FileInspection,
} from '../tarballs/inspect.js';
import { pointAliases } from './aliases.js';
import { splitOrder } from '../../shared/images/split-order.js';
import type { IncomingUpload, StagedUploads } from './staged-uploads.js';

interface ImportFile {
  /** The user's name for it. */
  name: string;
  size: number;
  /** Its bytes, opened once. */
  open: () => Readable;
  /** Whether it is a qcow2 disk (the rootfs part is then rootfs.img), read before `open`. */
  peekFormat: () => Promise<'qcow2' | 'other'>;
}

/** Web mode keeps a split image's metadata in memory while its rootfs streams: at most this. */
export const MAX_BUFFERED_METADATA = 64 * 1024 * 1024;

/** LXD refused a duplicate: the operation links to the image that is there. */
function imageExists(remote: string, project: string, fingerprint: string): OperationError {
  return new OperationError(
    'conflict',
    `This image is already on ${remote}${project === 'default' ? '' : ` (project ${project})`}: ${shortFingerprint(fingerprint)}. Nothing was imported.`,
    { remote, project, fingerprint },
  );
}

/**
 * A header value as Go's net/http sends it: its UTF-8 bytes as they are.
 * undici writes header values as Latin-1 and refuses characters beyond it,
 * so the UTF-8 bytes go in as a "binary" string, one character per byte
 * (`lxc image import образ.tar.xz` sends X-Lxd-Filename the same way, and
 * LXD stores the name as UTF-8).
 */
export function utf8HeaderValue(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function headers(
  input: CallInput<'images.importFiles'>,
  contentType: string,
  filename: string | undefined,
): Record<string, string> {
  return {
    'content-type': contentType,
    ...(filename === undefined ? {} : { 'x-lxd-filename': utf8HeaderValue(filename) }),
    'x-lxd-public': input.public ? '1' : '0',
    ...(Object.keys(input.properties).length === 0
      ? {}
      : { 'x-lxd-properties': new URLSearchParams(input.properties).toString() }),
  };
}

function partHeader(boundary: string, name: string, filename: string, first: boolean): Buffer {
  return Buffer.from(
    `${first ? '' : '\r\n'}--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename.replace(/["\r\n]/g, '_')}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
}

async function upload(
  client: LxdClient,
  input: CallInput<'images.importFiles'>,
  files: ImportFile[],
  { signal, progress, setCancellable }: OperationContext,
): Promise<{ fingerprint: string; inspections: FileInspection[] }> {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  let sent = 0;
  const onBytes = (count: number) => {
    sent += count;
    progress({
      stage: 'Uploading',
      processed: sent,
      total,
      percent: total > 0 ? (100 * sent) / total : 100,
    });
  };
  const hash = createCombinedHash();
  const inspections: Promise<FileInspection>[] = [];
  const inspect = (file: ImportFile, role: 'unified' | 'metadata' | 'rootfs') => {
    const { stream, result } = inspectingStream(file.open(), role, {
      name: file.name,
      signal,
      onBytes,
      hash,
    });
    inspections.push(result);
    // Both carry the same refusal; the result's is the one reported.
    result.catch(() => undefined);
    stream.on('error', () => undefined);
    return stream;
  };

  let body: Readable;
  let requestHeaders: Record<string, string>;
  const [first, second] = files;
  if (first === undefined) throw new HangarError('invalid-input', 'No file to import.');
  if (second === undefined) {
    body = inspect(first, 'unified');
    requestHeaders = headers(input, 'application/octet-stream', first.name);
  } else {
    const boundary = randomBytes(16).toString('hex');
    // The rootfs is opened only once the metadata went through: one file at a time.
    body = Readable.from(
      (async function* () {
        yield partHeader(boundary, 'metadata', first.name, true);
        yield* inspect(first, 'metadata');
        const format = await second.peekFormat();
        const rootfs = inspect(second, 'rootfs');
        yield partHeader(
          boundary,
          format === 'qcow2' ? 'rootfs.img' : 'rootfs',
          second.name,
          false,
        );
        yield* rootfs;
        yield Buffer.from(`\r\n--${boundary}--\r\n`);
      })(),
      { objectMode: false },
    );
    requestHeaders = headers(input, `multipart/form-data; boundary=${boundary}`, undefined);
  }

  let response;
  try {
    response = await client.upload('/1.0/images', body, {
      method: 'POST',
      project: input.project,
      headers: requestHeaders,
      signal,
    });
  } catch (error) {
    hash.dispose();
    // A refused file explains a stopped upload better than the socket error it caused.
    for (const inspection of inspections) {
      const refusal = await inspection.then(
        () => undefined,
        (failure: unknown) => HangarError.from(failure),
      );
      if (refusal?.code === 'invalid-image') throw refusal;
    }
    throw error;
  }
  let inspected: FileInspection[];
  let fingerprint: string;
  try {
    inspected = await Promise.all(inspections);
    fingerprint = await hash.digest();
  } finally {
    hash.dispose();
  }
  if (response.type !== 'async')
    throw new HangarError('lxd-error', 'LXD did not start importing the image.');
  progress({ stage: 'LXD is unpacking the image', processed: total, total, percent: 100 });
  setCancellable(false);
  try {
    const done = await client.waitForOperation(response.operation, { project: input.project });
    const made = done.metadata?.fingerprint;
    if (typeof made === 'string' && made !== fingerprint)
      throw new HangarError(
        'lxd-error',
        `LXD stored the image as ${made}, but the files read as ${fingerprint}.`,
      );
  } catch (error) {
    if (/same fingerprint already exists/i.test(HangarError.from(error).message))
      throw imageExists(input.remote, input.project ?? 'default', fingerprint);
    throw error;
  }
  return { fingerprint, inspections: inspected };
}

const formatOf = (head: Buffer): 'qcow2' | 'other' =>
  detectFormat(head)?.kind === 'qcow2' ? 'qcow2' : 'other';

/** The first bytes of a file, to name the rootfs part as lxc does (rootfs.img for a VM disk). */
async function peekFormat(path: string): Promise<'qcow2' | 'other'> {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(path, { start: 0, end: 511 }))
    chunks.push(chunk as Buffer);
  return formatOf(Buffer.concat(chunks));
}

/** A stream's first `count` bytes (fewer if it ends), put back for its reader. */
async function peekStream(stream: Readable, count: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < count && !stream.readableEnded && !stream.destroyed) {
    const chunk = stream.read() as Buffer | null;
    if (chunk === null) {
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('readable', done);
          stream.off('close', done);
          stream.off('end', done);
          resolve();
        };
        stream.on('readable', done);
        stream.on('close', done);
        stream.on('end', done);
      });
      continue;
    }
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0 && !stream.destroyed) stream.unshift(head);
  return head;
}

/** All of a (small, capped) upload's bytes. */
async function readAll(upload: IncomingUpload): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of upload.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Of two files, [metadata, rootfs] (see orderSplitFiles), decided before the
 * operation starts so that its `lxc` command lists them in that order. Files
 * that cannot be read keep the order given: the operation then says why.
 */
async function orderByContent<T extends { path: string; name: string }>(files: T[]): Promise<T[]> {
  const [a, b] = files;
  if (a === undefined || b === undefined || files.length !== 2) return files;
  const metadata = await orderSplitFiles([a.path, b.path], [a.name, b.name]).then(
    ([first]) => first,
    () => a.path,
  );
  return metadata === a.path ? [a, b] : [b, a];
}

function fromPath(path: string, name: string, size: number): ImportFile {
  return {
    name,
    size,
    open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
    peekFormat: () => peekFormat(path),
  };
}

function fromUpload(upload: IncomingUpload, buffered?: Buffer): ImportFile {
  return {
    name: upload.name,
    size: upload.size,
    open: () => (buffered === undefined ? upload.stream : Readable.from([buffered])),
    peekFormat: async () => formatOf(buffered ?? (await peekStream(upload.stream, 512))),
  };
}

/** Runs the import operation; `files` are read inside it, in order (metadata first). */
function startImport(
  remotes: RemoteRegistry,
  operations: Operations,
  input: CallInput<'images.importFiles'>,
  shown: string[],
  files: (context: OperationContext) => Promise<ImportFile[]>,
  ended: (error?: unknown) => void,
): OperationSummary {
  const connection = remotes.lxd(input.remote);
  return operations.start(
    {
      kind: 'import',
      title: `Import ${shown.map((name) => basename(name)).join(' + ')} into ${input.remote}`,
      command: importCommand({ ...input, files: shown }),
    },
    async (context) => {
      try {
        context.progress({ stage: 'Checking the files' });
        const ready = await files(context);
        const { fingerprint } = await connection.withClient(async (client) => {
          const result = await upload(client, input, ready, context);
          await pointAliases(
            client,
            input.aliases.map((name) => ({ name, description: '' })),
            result.fingerprint,
            input.project,
          );
          return result;
        });
        ended();
        return { remote: input.remote, project: input.project ?? 'default', fingerprint };
      } catch (error) {
        ended(error);
        throw error;
      }
    },
  );
}

/**
 * Uploads from the browser: taken as their bytes arrive. A split image's
 * smaller file (the metadata, unless its content says otherwise) is read
 * into memory first (at most MAX_BUFFERED_METADATA), so that the content
 * decides the order before the operation starts, as for paths; the other
 * file then streams. Every upload's PUT is answered with the import's outcome.
 */
async function importUploads(
  remotes: RemoteRegistry,
  operations: Operations,
  uploads: StagedUploads,
  input: CallInput<'images.importFiles'>,
  ids: string[],
): Promise<OperationSummary> {
  const settleAll = (error?: unknown) => {
    for (const id of ids) uploads.settle(id, error);
  };
  try {
    if (new Set(ids).size !== ids.length)
      throw new HangarError('invalid-input', 'The same upload was given twice.');
    remotes.lxd(input.remote);
    const [a, b] = ids;
    if (a === undefined) throw new HangarError('invalid-input', 'No file to import.');
    if (b === undefined) {
      const { name } = uploads.describe(a);
      return startImport(
        remotes,
        operations,
        input,
        [name],
        async (context) => [fromUpload(await uploads.take(a, context.signal))],
        settleAll,
      );
    }
    const sizes = [uploads.describe(a), uploads.describe(b)];
    const smaller = Math.min(...sizes.map((file) => file.size));
    if (smaller > MAX_BUFFERED_METADATA)
      throw new HangarError(
        'invalid-image',
        `Neither ${sizes[0]?.name} nor ${sizes[1]?.name} is a split image's metadata file: in web mode it may be at most ${MAX_BUFFERED_METADATA / 1024 / 1024} MiB (the desktop app and lxc image import take larger ones).`,
      );
    const taken = await Promise.all([uploads.take(a), uploads.take(b)]);
    const [small, big] = taken[1].size < taken[0].size ? [taken[1], taken[0]] : taken;
    const smallBytes = await readAll(small);
    const bigBytes = big.size <= MAX_BUFFERED_METADATA ? await readAll(big) : undefined;
    const [smallRole, bigRole] = await Promise.all([
      peekSplitRole(smallBytes, small.name),
      bigBytes === undefined ? undefined : peekSplitRole(bigBytes, big.name),
    ]);
    // As for paths (orderSplitFiles): content first, the size when it cannot tell.
    const { metadata } = splitOrder(
      { role: smallRole, size: small.size },
      { role: bigRole, size: big.size },
    );
    const ordered =
      metadata === 0
        ? [fromUpload(small, smallBytes), fromUpload(big, bigBytes)]
        : [fromUpload(big, bigBytes), fromUpload(small, smallBytes)];
    return startImport(
      remotes,
      operations,
      input,
      ordered.map((file) => file.name),
      () => Promise.resolve(ordered),
      settleAll,
    );
  } catch (error) {
    settleAll(error);
    throw error;
  }
}

export async function importFiles(
  remotes: RemoteRegistry,
  operations: Operations,
  uploads: StagedUploads,
  input: CallInput<'images.importFiles'>,
): Promise<OperationSummary> {
  const ids = input.files.flatMap((file) => ('upload' in file ? [file.upload] : []));
  if (ids.length > 0) {
    if (ids.length !== input.files.length)
      throw new HangarError('invalid-input', 'Files are either all paths or all uploads.');
    return importUploads(remotes, operations, uploads, input, ids);
  }
  const paths = input.files.flatMap((file) => ('path' in file ? [file.path] : []));
  // Dropped files come in no order: the content says which is the metadata (else the size).
  const named = await orderByContent(paths.map((path) => ({ path, name: basename(path) })));
  return startImport(
    remotes,
    operations,
    input,
    named.map((file) => file.path),
    async () => {
      const files: { path: string; name: string; size: number }[] = [];
      for (const file of named)
        files.push({ ...file, size: await imageFileSize(file.path, file.name) });
      const [first, second] = files;
      // Refuses the same file twice (and reorders, had the files changed meanwhile).
      if (first !== undefined && second !== undefined) {
        const [metadataPath] = await orderSplitFiles(
          [first.path, second.path],
          [first.name, second.name],
        );
        if (metadataPath !== first.path) files.reverse();
      }
      return files.map((file) => fromPath(file.path, file.name, file.size));
    },
    () => undefined,
  );
}
