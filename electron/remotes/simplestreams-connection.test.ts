import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, onTestFinished, vi } from 'vitest';
import { generateCatalog } from '../../scripts/simplestreams/catalog-generator.js';
import {
  startSimplestreamsServer,
  type SimplestreamsServer,
} from '../../scripts/simplestreams/server.js';
import { createSelfSignedCertificate } from '../tls/certificate.js';
import { EventHub } from '../event-hub.js';
import { SimplestreamsConnection } from './simplestreams-connection.js';

const INDEX = 'streams/v1/index.json';
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
  dir = await mkdtemp(join(tmpdir(), 'hangar-ss-connection-'));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

it('lists a remote just added from the read that validated it, then asks the server again', async () => {
  const connection = new SimplestreamsConnection('ss', server.url, dir, new EventHub(), server.ca);
  onTestFinished(() => connection.close());
  await connection.validate();
  expect(server.count(INDEX)).toBe(1);
  // Adding indexes the catalog, and the window that opens on the remote lists it too.
  const [indexed, shown] = [await connection.listImages(), await connection.listImages()];
  expect(shown).toBe(indexed);
  expect(shown.length).toBeGreaterThan(0);
  expect(server.count(INDEX)).toBe(1);
  // Seconds later, a listing is the user asking for the current catalog.
  const now = Date.now();
  vi.spyOn(Date, 'now').mockReturnValue(now + 3000);
  try {
    await connection.listImages();
  } finally {
    vi.restoreAllMocks();
  }
  expect(server.count(INDEX)).toBe(2);
});
