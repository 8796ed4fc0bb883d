/**
 * Reads a multipart/form-data body as it streams (LXD's split image export:
 * a metadata part then a rootfs part), handing each part's bytes to a sink
 * without holding a part in memory.
 */
import { HangarError } from '../../shared/errors.js';

export interface PartHeaders {
  name: string | undefined;
  filename: string | undefined;
}

/** Receives one part's bytes; `write` may wait (backpressure). */
export interface PartSink {
  write: (chunk: Buffer) => Promise<void>;
  end: () => Promise<void>;
}

export function multipartBoundary(contentType: string | undefined): string | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return match?.[1] ?? match?.[2];
}

function parseHeaders(block: string): PartHeaders {
  const disposition = block
    .split('\r\n')
    .find((line) => line.toLowerCase().startsWith('content-disposition:'));
  const param = (key: string) =>
    disposition === undefined
      ? undefined
      : (new RegExp(`;\\s*${key}="([^"]*)"`, 'i').exec(disposition)?.[1] ??
        new RegExp(`;\\s*${key}=([^;\\s]+)`, 'i').exec(disposition)?.[1]);
  return { name: param('name'), filename: param('filename') };
}

export async function readMultipart(
  body: AsyncIterable<Buffer>,
  boundary: string,
  onPart: (headers: PartHeaders) => PartSink,
): Promise<number> {
  // With a CRLF in front, every delimiter (the first one too) is CRLF--boundary.
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let pending: Buffer = Buffer.from('\r\n');
  type State = 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done';
  let state = 'preamble' as State;
  let sink: PartSink | undefined;
  let parts = 0;

  const step = async (): Promise<boolean> => {
    if (state === 'preamble') {
      const at = pending.indexOf(delimiter);
      if (at < 0) {
        pending = pending.subarray(Math.max(0, pending.length - delimiter.length + 1));
        return false;
      }
      pending = pending.subarray(at + delimiter.length);
      state = 'after-delimiter';
      return true;
    }
    if (state === 'after-delimiter') {
      if (pending.length < 2) return false;
      if (pending.subarray(0, 2).toString() === '--') {
        state = 'done';
        return false;
      }
      const eol = pending.indexOf('\r\n');
      if (eol < 0) return false;
      pending = pending.subarray(eol + 2);
      state = 'headers';
      return true;
    }
    if (state === 'headers') {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) {
        if (pending.length > 16 * 1024)
          throw new HangarError('lxd-error', 'LXD sent a multipart part with oversized headers.');
        return false;
      }
      sink = onPart(parseHeaders(pending.subarray(0, end).toString('utf8')));
      parts += 1;
      pending = pending.subarray(end + 4);
      state = 'body';
      return true;
    }
    if (state === 'body' && sink !== undefined) {
      const at = pending.indexOf(delimiter);
      if (at < 0) {
        // Keep what could be the start of a delimiter split across chunks.
        const keep = delimiter.length - 1;
        if (pending.length > keep) {
          await sink.write(pending.subarray(0, pending.length - keep));
          pending = pending.subarray(pending.length - keep);
        }
        return false;
      }
      if (at > 0) await sink.write(pending.subarray(0, at));
      await sink.end();
      sink = undefined;
      pending = pending.subarray(at + delimiter.length);
      state = 'after-delimiter';
      return true;
    }
    return false;
  };

  for await (const chunk of body) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (await step());
    if (state === 'done') break;
  }
  if (state !== 'done')
    throw new HangarError('lxd-error', 'The export ended before its last part: it is incomplete.');
  return parts;
}
