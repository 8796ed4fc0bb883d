/**
 * Fetched catalog files on disk, with what revalidating them needs (ETag,
 * Last-Modified) and when the server last confirmed them. A file is its
 * body plus a small JSON record naming the body's sha256: each is written
 * to a temporary name then renamed, and a record that does not match its
 * body (a crash between the two renames) counts as no copy at all.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateFile } from '../private-files.js';

export interface CachedFileRecord {
  url: string;
  etag?: string;
  lastModified?: string;
  /** ISO time the server last sent or confirmed (304) this content. */
  fetchedAt: string;
  sha256: string;
  size: number;
}

export const sha256Hex = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function isRecord(value: unknown, url: string): value is CachedFileRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<Record<keyof CachedFileRecord, unknown>>;
  return (
    record.url === url &&
    typeof record.fetchedAt === 'string' &&
    typeof record.sha256 === 'string' &&
    typeof record.size === 'number' &&
    (record.etag === undefined || typeof record.etag === 'string') &&
    (record.lastModified === undefined || typeof record.lastModified === 'string')
  );
}

export class DiskCache {
  constructor(private readonly dir: string) {}

  private paths(url: string): { body: string; record: string } {
    const key = createHash('sha256').update(url).digest('hex').slice(0, 40);
    return { body: join(this.dir, `${key}.body`), record: join(this.dir, `${key}.json`) };
  }

  /** The record alone (for conditional requests); undefined when there is none or it is unreadable. */
  async readRecord(url: string): Promise<CachedFileRecord | undefined> {
    try {
      const value: unknown = JSON.parse(await readFile(this.paths(url).record, 'utf8'));
      return isRecord(value, url) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** The body the record describes, or undefined when it is missing or another one. */
  async readBody(record: CachedFileRecord): Promise<Buffer | undefined> {
    try {
      const body = await readFile(this.paths(record.url).body);
      return body.length === record.size && sha256Hex(body) === record.sha256 ? body : undefined;
    } catch {
      return undefined;
    }
  }

  async read(url: string): Promise<{ record: CachedFileRecord; body: Buffer } | undefined> {
    const record = await this.readRecord(url);
    const body = record && (await this.readBody(record));
    return record && body ? { record, body } : undefined;
  }

  /** Stores a body and its record; without a body, only the record (after a 304). */
  async write(record: CachedFileRecord, body?: Buffer): Promise<void> {
    const paths = this.paths(record.url);
    if (body !== undefined) await writePrivateFile(paths.body, body);
    await writePrivateFile(paths.record, JSON.stringify(record));
  }
}
