/**
 * Open instantly: a list Hangar has seen is painted at once, marked
 * "Refreshing…", then replaced by the server's answer; after a reload, and
 * after a restart (from the copy on disk).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { generateCatalog } from '../scripts/simplestreams/catalog-generator.js';
import {
  startSimplestreamsServer,
  type SimplestreamsServer,
} from '../scripts/simplestreams/server.js';
import { e2eEnv } from './lxd.js';
import { startWebMode, type RunningWebMode } from './web-mode.js';

const { lxdDir, fixtures } = e2eEnv();
const PRODUCTS_PATH = 'streams/v1/images.json';

let dir: string;
let catalog: SimplestreamsServer;
let caFile: string;
let web: RunningWebMode | undefined;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-list-cache-'));
  catalog = await startSimplestreamsServer({
    files: generateCatalog({ products: 4, versionsPerProduct: 2 }).files,
  });
  caFile = join(dir, 'catalog-ca.pem');
  await writeFile(caFile, catalog.ca);
});
test.afterAll(async () => {
  await web?.stop();
  await catalog.close();
  await rm(dir, { recursive: true, force: true });
});

const startHangar = () =>
  startWebMode({
    LXD_DIR: lxdDir,
    HANGAR_DATA_DIR: join(dir, 'hangar-data'),
    LXD_CONF: join(dir, 'lxc-config'),
    NODE_EXTRA_CA_CERTS: caFile,
  });

const status = (page: Page) => page.getByRole('status');
const refreshing = (page: Page) => page.getByText('Refreshing…');
const countOf = async (page: Page) =>
  Number(/^(\d+) of/.exec((await status(page).textContent()) ?? '')?.[1]);

/** Holds every images.load call (the server's list) on the page's socket until released. */
async function holdLists(page: Page): Promise<() => void> {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.routeWebSocket('**/api/socket', (socket) => {
    const server = socket.connectToServer();
    socket.onMessage((frame) => {
      if (typeof frame === 'string' && frame.includes('"call":"images.load"'))
        void held.then(() => server.send(frame));
      else server.send(frame);
    });
    server.onMessage((frame) => socket.send(frame));
  });
  return release;
}

test('a reload and a restart paint the last list at once, marked Refreshing…, then the fresh one', async ({
  page,
}) => {
  web = await startHangar();
  await page.goto(web.url);
  const nav = page.getByRole('navigation', { name: 'Remotes' });
  await nav.getByRole('button', { name: 'Add remote' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add remote' });
  await dialog.getByRole('textbox', { name: 'Name' }).fill('cached');
  await dialog.getByRole('radio', { name: 'Simplestreams image server' }).check();
  await dialog.getByRole('textbox', { name: 'Address' }).fill(catalog.url);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(nav.getByRole('link', { name: 'cached', exact: true })).toHaveAttribute(
    'aria-current',
    'page',
  );
  // The catalog (more images than the local fixtures) is listed.
  await expect.poll(() => countOf(page)).toBeGreaterThan(fixtures.length);
  await expect(status(page)).toHaveText(/^(\d+) of \1 images$/);
  await expect(refreshing(page)).toHaveCount(0);
  const before = await countOf(page);

  // The server's catalog changes: the next answer differs from the kept list.
  const smaller = generateCatalog({ products: 2, versionsPerProduct: 2 }).files.get(PRODUCTS_PATH);
  if (smaller === undefined) throw new Error(`the generator wrote no ${PRODUCTS_PATH}`);
  catalog.setFile(PRODUCTS_PATH, smaller);

  // A reload: the kept list at once, marked, while the server's answer is held back.
  let release = await holdLists(page);
  await page.reload();
  await expect(status(page)).toHaveText(`${before} of ${before} images`);
  await expect(refreshing(page)).toBeVisible();
  release();
  await expect(status(page)).not.toHaveText(`${before} of ${before} images`);
  await expect(status(page)).toHaveText(/^(\d+) of \1 images$/);
  await expect(refreshing(page)).toHaveCount(0);
  const after = await countOf(page);
  expect(after).toBeLessThan(before);

  // Switching to another remote never shows these rows, and back paints them at once.
  await nav.getByRole('link', { name: 'local', exact: true }).click();
  await expect(status(page)).toHaveText(`${fixtures.length} of ${fixtures.length} images`);
  await nav.getByRole('link', { name: 'cached', exact: true }).click();
  await expect(status(page)).toHaveText(`${after} of ${after} images`, { timeout: 1000 });

  // A restart: the copy on disk, painted before the catalog is read again.
  await page.unrouteAll();
  await web.stop();
  catalog.setFile(
    PRODUCTS_PATH,
    generateCatalog({ products: 4, versionsPerProduct: 2 }).files.get(PRODUCTS_PATH) ?? '',
  );
  web = await startHangar();
  release = await holdLists(page);
  await page.goto(`${web.url}#remote=cached&project=default`);
  await expect(status(page)).toHaveText(`${after} of ${after} images`);
  await expect(refreshing(page)).toBeVisible();
  release();
  await expect(status(page)).toHaveText(`${before} of ${before} images`);
  await expect(refreshing(page)).toHaveCount(0);
});
