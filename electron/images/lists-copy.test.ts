/**
 * A window fetches its copy of a list in chunks, all asked at once as the list appears. The
 * chunks are encoded one a turn of the event loop, so a call made meanwhile (the info pane of a
 * row clicked as the list appeared) is answered without waiting for the whole copy.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RemoteSummary } from '../../shared/contract.js';
import { decodeChunk, LIST_CHUNK_MAX } from '../../shared/images/listed.js';
import { LXC_SORT } from '../../shared/images/view.js';
import { generateCatalog } from '../../scripts/simplestreams/catalog-generator.js';
import {
  startSimplestreamsServer,
  type SimplestreamsServer,
} from '../../scripts/simplestreams/server.js';
import { EventHub } from '../event-hub.js';
import { SimplestreamsConnection } from '../remotes/simplestreams-connection.js';
import { createSelfSignedCertificate } from '../tls/certificate.js';
import { ImageLists } from './lists.js';

let server: SimplestreamsServer;
let dir: string;

beforeAll(async () => {
  const identity = await createSelfSignedCertificate({
    commonName: '127.0.0.1',
    usage: 'server',
    hosts: ['127.0.0.1'],
  });
  server = await startSimplestreamsServer({
    files: generateCatalog({ products: 1000, versionsPerProduct: 5 }).files,
    identity,
  });
  dir = await mkdtemp(join(tmpdir(), 'hangar-list-copy-'));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

it('answers a call made while a window fetches its copy before the copy is done', async () => {
  const hub = new EventHub();
  const connection = new SimplestreamsConnection('big', server.url, dir, hub, server.ca);
  const lists = new ImageLists({
    remotes: {
      connection: () => connection,
      list: () => [{ name: 'big', addr: server.url } as RemoteSummary],
    },
    hub,
  });
  try {
    const scope = { remote: 'big' };
    const shown = await lists.loadView(scope, { filter: '', sort: LXC_SORT, offset: 0, limit: 40 });
    const chunks = Math.ceil(shown.total / LIST_CHUNK_MAX);
    expect(chunks).toBeGreaterThanOrEqual(3);
    const settled: string[] = [];
    // As a window asks: every chunk at once, then (a click) one image's details.
    const copy = Array.from({ length: chunks }, (_, index) =>
      lists.chunk(scope, index * LIST_CHUNK_MAX, LIST_CHUNK_MAX).then((chunk) => {
        settled.push(`chunk ${index}`);
        return chunk;
      }),
    );
    const fingerprint = shown.rows[0]?.fingerprint ?? '';
    const details = lists.details(scope, [fingerprint]).then((images) => {
      settled.push('details');
      return images;
    });
    expect((await details).map((image) => image.fingerprint)).toEqual([fingerprint]);
    const parts = await Promise.all(copy);
    expect(settled.indexOf('details')).toBeLessThan(settled.indexOf(`chunk ${chunks - 1}`));
    // Still the whole list, in order, once each.
    const images = parts.flatMap((part) => decodeChunk(part).images);
    expect(images).toHaveLength(shown.total);
    expect(images[0]?.fingerprint).toBe(fingerprint);
    // Asked again (another window), the same chunks, made once.
    expect(await lists.chunk(scope, 0, LIST_CHUNK_MAX)).toBe(parts[0]);
  } finally {
    lists.close();
    await connection.close();
  }
});
