/**
 * A simplestreams remote just added: its catalog, read to validate it, is indexed ahead for the
 * window that opens on it, which takes it without a second download; the next listing (a
 * reload, another window) asks the server again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RemoteSummary } from '../../shared/contract.js';
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

const INDEX = 'streams/v1/index.json';
const query = { filter: '', sort: LXC_SORT, offset: 0, limit: 10 };
let server: SimplestreamsServer;
let dir: string;

beforeAll(async () => {
  const identity = await createSelfSignedCertificate({
    commonName: '127.0.0.1',
    usage: 'server',
    hosts: ['127.0.0.1'],
  });
  server = await startSimplestreamsServer({
    files: generateCatalog({ products: 4, versionsPerProduct: 2 }).files,
    identity,
  });
  dir = await mkdtemp(join(tmpdir(), 'hangar-read-ahead-'));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

it('gives the window on a remote just added the catalog adding it read, and asks the server again after', async () => {
  const hub = new EventHub();
  const connection = new SimplestreamsConnection('added', server.url, dir, hub, server.ca);
  const lists = new ImageLists({
    remotes: {
      connection: () => connection,
      list: () => [{ name: 'added', addr: server.url } as RemoteSummary],
    },
    hub,
  });
  try {
    const scope = { remote: 'added' };
    // What adding the remote does: read the catalog (to validate the address), then hand it over.
    const catalog = await connection.listImages();
    expect(server.count(INDEX)).toBe(1);
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
    expect(shown.total).toBeGreaterThan(0);
    expect(server.count(INDEX)).toBe(1);
    // A reload of that window, or another one: the server is asked.
    const again = await lists.loadView(scope, query);
    expect(again.total).toBe(shown.total);
    expect(server.count(INDEX)).toBe(2);
  } finally {
    lists.close();
    await connection.close();
  }
});
