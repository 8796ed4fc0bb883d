/**
 * `lxc image import <tarball> [<rootfs>]`: the file(s) are read once, in one
 * streaming pass that inspects them (compression, metadata.yaml, unsafe
 * paths, fingerprint) while the bytes go to LXD. Anything wrong stops the
 * upload, and LXD keeps nothing of an upload that did not finish.
 */
import { createHash, randomBytes } from 'node:crypto';
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
  detectFormat,
  imageFileSize,
  inspectingStream,
  orderSplitFiles,
  type FileInspection,
} from '../tarballs/inspect.js';
import { pointAliases } from './aliases.js';
import type { StagedUploads } from './staged-uploads.js';

interface ImportFile {
  path: string;
  /** The user's name for it (a staged upload's path is a uuid). */
  name: string;
  size: number;
}

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
  const hash = createHash('sha256');
  const inspections: Promise<FileInspection>[] = [];
  const inspect = (file: ImportFile, role: 'unified' | 'metadata' | 'rootfs') => {
    const { stream, result } = inspectingStream(
      createReadStream(file.path, { highWaterMark: 1024 * 1024 }),
      role,
      {
        name: file.name,
        signal,
        onBytes,
        hash,
      },
    );
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
        const rootfs = inspect(second, 'rootfs');
        const format = await peekFormat(second.path);
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
  const inspected = await Promise.all(inspections);
  const fingerprint = hash.digest('hex');
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

/** The first bytes of a file, to name the rootfs part as lxc does (rootfs.img for a VM disk). */
async function peekFormat(path: string): Promise<'qcow2' | 'other'> {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(path, { start: 0, end: 511 }))
    chunks.push(chunk as Buffer);
  return detectFormat(Buffer.concat(chunks))?.kind === 'qcow2' ? 'qcow2' : 'other';
}

/**
 * Of two files, [metadata, rootfs] (see orderSplitFiles), decided before the
 * operation starts so that its `lxc` command lists them in that order. Files
 * that cannot be read keep the order given: the operation then says why.
 */
async function splitOrder<T extends { path: string; name: string }>(files: T[]): Promise<T[]> {
  const [a, b] = files;
  if (a === undefined || b === undefined || files.length !== 2) return files;
  const metadata = await orderSplitFiles([a.path, b.path], [a.name, b.name]).then(
    ([first]) => first,
    () => a.path,
  );
  return metadata === a.path ? [a, b] : [b, a];
}

export async function importFiles(
  remotes: RemoteRegistry,
  operations: Operations,
  uploads: StagedUploads,
  input: CallInput<'images.importFiles'>,
): Promise<OperationSummary> {
  const connection = remotes.lxd(input.remote);
  const given = input.files.map((file) => {
    if ('path' in file)
      return { path: file.path, name: basename(file.path), shown: file.path, staged: undefined };
    const staged = uploads.get(file.upload);
    return { path: staged.path, name: staged.name, shown: staged.name, staged: staged.id };
  });
  const release = () =>
    Promise.all(
      given.flatMap((file) => (file.staged === undefined ? [] : [uploads.release(file.staged)])),
    );
  // Dropped files come in no order: the content says which is the metadata (else the size).
  const named = await splitOrder(given);
  return operations.start(
    {
      kind: 'import',
      title: `Import ${named.map((file) => file.name).join(' + ')} into ${input.remote}`,
      command: importCommand({ ...input, files: named.map((file) => file.shown) }),
    },
    async (context) => {
      try {
        context.progress({ stage: 'Checking the files' });
        const files: ImportFile[] = [];
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
        const { fingerprint } = await connection.withClient(async (client) => {
          const result = await upload(client, input, files, context);
          await pointAliases(
            client,
            input.aliases.map((name) => ({ name, description: '' })),
            result.fingerprint,
            input.project,
          );
          return result;
        });
        return { remote: input.remote, project: input.project ?? 'default', fingerprint };
      } finally {
        await release();
      }
    },
  );
}
