/**
 * What a dropped file of a split image is, read in the browser from its first
 * bytes: a squashfs or qcow2 image is a rootfs; a plain or gzip tarball is what
 * its first entries say (shared/images/split-order.ts). Other compressions
 * (xz, bzip2, zstd, lzma) cannot be read here: `undefined`, and the main
 * process decides by content when it reads the files.
 */
import { roleFromEntries, tarHeadPaths, type SplitRole } from '../../shared/images/split-order';

/** Enough for the first entries of any image tarball. */
const PEEK_BYTES = 1024 * 1024;

const startsWith = (data: Uint8Array, bytes: number[], at = 0) =>
  bytes.every((byte, index) => data[at + index] === byte);

/** As much of a gzip stream's output as its first bytes give (a cut stream ends in an error). */
async function gunzipHead(data: Blob): Promise<Uint8Array> {
  const reader = data.stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    while (length < 4 * PEEK_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
  } catch {
    // The input was cut short: what came out is what there is.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

export async function peekSplitRole(file: File): Promise<SplitRole | undefined> {
  try {
    const start = file.slice(0, PEEK_BYTES);
    const head = new Uint8Array(await start.arrayBuffer());
    // squashfs ("hsqs") and qcow2 ("QFI\xfb") are only ever a rootfs.
    if (startsWith(head, [0x68, 0x73, 0x71, 0x73]) || startsWith(head, [0x51, 0x46, 0x49, 0xfb]))
      return 'rootfs';
    const whole = file.size <= PEEK_BYTES;
    let tar: Uint8Array;
    if (startsWith(head, [0x1f, 0x8b])) tar = await gunzipHead(start);
    else if (startsWith(head, [0x75, 0x73, 0x74, 0x61, 0x72], 257)) tar = head;
    else return undefined;
    const { paths, complete } = tarHeadPaths(tar);
    return roleFromEntries(paths, complete && whole);
  } catch {
    return undefined;
  }
}
