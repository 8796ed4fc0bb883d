import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { multipartBoundary, readMultipart } from './multipart.js';

function body(boundary: string, parts: { name: string; filename: string; data: Buffer }[]) {
  const pieces: Buffer[] = [];
  for (const part of parts)
    pieces.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      part.data,
      Buffer.from('\r\n'),
    );
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

async function* chunks(data: Buffer, size: number) {
  for (let at = 0; at < data.length; at += size) {
    await Promise.resolve();
    yield data.subarray(at, at + size);
  }
}

describe('readMultipart', () => {
  it('splits LXD-style parts at any chunk size, bytes intact', async () => {
    const boundary = 'a1b2c3';
    const metadata = randomBytes(3000);
    // Bytes that look like a delimiter's start must stay in the data.
    const rootfs = Buffer.concat([randomBytes(5000), Buffer.from('\r\n--a1b2'), randomBytes(7000)]);
    const data = body(boundary, [
      { name: 'metadata', filename: 'meta-abc.tar.xz', data: metadata },
      { name: 'rootfs', filename: 'abc.tar.xz', data: rootfs },
    ]);
    for (const size of [1, 7, 64, 4096, data.length]) {
      const got: { name?: string; filename?: string; data: Buffer[] }[] = [];
      const count = await readMultipart(chunks(data, size), boundary, (headers) => {
        const part = { ...headers, data: [] as Buffer[] };
        got.push(part);
        return {
          write: (chunk) => {
            part.data.push(Buffer.from(chunk));
            return Promise.resolve();
          },
          end: () => Promise.resolve(),
        };
      });
      expect(count).toBe(2);
      expect(got.map((part) => [part.name, part.filename])).toEqual([
        ['metadata', 'meta-abc.tar.xz'],
        ['rootfs', 'abc.tar.xz'],
      ]);
      expect(Buffer.concat(got[0]?.data ?? []).equals(metadata)).toBe(true);
      expect(Buffer.concat(got[1]?.data ?? []).equals(rootfs)).toBe(true);
    }
  });

  it('says a truncated body is incomplete', async () => {
    const data = body('xyz', [{ name: 'metadata', filename: 'm', data: randomBytes(100) }]);
    const sink = { write: () => Promise.resolve(), end: () => Promise.resolve() };
    await expect(
      readMultipart(chunks(data.subarray(0, data.length - 10), 16), 'xyz', () => sink),
    ).rejects.toThrow(/incomplete/);
  });

  it('reads the boundary from the content type', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc123')).toBe('abc123');
    expect(multipartBoundary('multipart/form-data; boundary="a b"')).toBe('a b');
    expect(multipartBoundary('application/octet-stream')).toBeUndefined();
  });
});
