/**
 * ImageLists holding a simplestreams catalog, as a window meets it:
 * - a remote just added: its catalog, read to validate it, is indexed ahead for the window that
 *   opens on it, which takes it without a second download; the next listing (a reload, another
 *   window) asks the server again;
 * - a window fetches its copy of the list in chunks, all asked at once as the list appears; they
 *   are encoded one a turn of the event loop, so a call made meanwhile (the info pane of a row
 *   clicked as the list appeared) is answered without waiting for the whole copy.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RemoteSummary } from '../../shared/contract.js';
import { decodeChunk, LIST_CHUNK_MAX } from '../../shared/images/listed.js';
import { LXC_SORT } from '../../shared/images/view.js';
import { generateCatalog } from '../../scripts/simplestreams/catalog-generator.js';
import {
  startSimplestreamsServer,
  type SimplestreamsServer,
} from '../../scripts/simplestreams/server.js';
import { scratchDirs } from '../../scripts/testing/scratch-dirs.js';
import { EventHub } from '../event-hub.js';
import { SimplestreamsConnection } from '../remotes/simplestreams-connection.js';
import { createSelfSignedCertificate } from '../tls/certificate.js';
import { ImageLists } from './lists.js';

const INDEX = 'streams/v1/index.json';
const scratch = scratchDirs();
let server: SimplestreamsServer;

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
});

afterAll(() => server.close());

/** ImageLists with one remote, `name`, on the test's server; closed after `use`. */
async function withLists(
  name: string,
  use: (lists: ImageLists, connection: SimplestreamsConnection, hub: EventHub) => Promise<void>,
): Promise<void> {
  const hub = new EventHub();
  const connection = new SimplestreamsConnection(
    name,
    server.url,
    await scratch('hangar-lists-'),
    hub,
    server.ca,
  );
  const lists = new ImageLists({
    remotes: {
      connection: () => connection,
      list: () => [{ name, addr: server.url } as RemoteSummary],
    },
    hub,
  });
  try {
    await use(lists, connection, hub);
  } finally {
    await lists.close();
    await connection.close();
  }
}

it('gives the window on a remote just added the catalog adding it read, and asks the server again after', async () => {
  await withLists('added', async (lists, connection, hub) => {
    const scope = { remote: 'added' };
    const query = { filter: '', sort: LXC_SORT, offset: 0, limit: 10 };
    const downloads = server.count(INDEX);
    // What adding the remote does: read the catalog (to validate the address), then hand it over.
    const catalog = await connection.listImages();
    expect(server.count(INDEX)).toBe(downloads + 1);
    // The window asks after the catalog was indexed, as it does after the add's answer.
    const indexed = new Promise<void>((resolve) => {
      const stop = hub.subscribe((message) => {
        if (message.event !== 'images.listChanged') return;
        stop();
        resolve();
      });
    });
    lists.readAhead(scope, catalog);
    await indexed;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const shown = await lists.loadView(scope, query);
    expect(shown.state).toBe('fresh');
    expect(shown.total).toBe(catalog.length);
    expect(server.count(INDEX)).toBe(downloads + 1);
    // A reload of that window, or another one: the server is asked.
    const again = await lists.loadView(scope, query);
    expect(again.total).toBe(shown.total);
    expect(server.count(INDEX)).toBe(downloads + 2);
  });
});

it('answers a call made while a window fetches its copy before the copy is done', async () => {
  await withLists('big', async (lists) => {
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
  });
});
