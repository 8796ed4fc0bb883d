/**
 * Lists that scale: a catalog of thousands of images is filtered, sorted,
 * scrolled and selected in the window. The page receives the rows it shows
 * first, then the list's compact copy once, in chunks (never the images
 * themselves); with it, filters, sorts and selections ask the main process
 * nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { buildCatalog, parseProducts } from '../electron/simplestreams/catalog.js';
import { generateCatalog } from '../scripts/simplestreams/catalog-generator.js';
import {
  startSimplestreamsServer,
  type SimplestreamsServer,
} from '../scripts/simplestreams/server.js';
import { filterImages, parseFilter } from '../shared/images/filter.js';
import { LIST_CHUNK_MAX } from '../shared/images/listed.js';
import { scrollFramesScript, type ScrolledFrames } from './scroll-frames.js';
import { startWebMode, type RunningWebMode } from './web-mode.js';

const PRODUCTS_PATH = 'streams/v1/images.json';
const generated = generateCatalog({ products: 600, versionsPerProduct: 5 });

let dir: string;
let catalog: SimplestreamsServer;
let web: RunningWebMode | undefined;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-large-list-'));
  catalog = await startSimplestreamsServer({ files: generated.files });
  await writeFile(join(dir, 'ca.pem'), catalog.ca);
});
test.afterAll(async () => {
  await web?.stop();
  await catalog.close();
  await rm(dir, { recursive: true, force: true });
});

/** The catalog as Hangar and LXD read it (the shared filter decides what matches). */
function catalogImages() {
  const body = generated.files.get(PRODUCTS_PATH);
  if (body === undefined) throw new Error(`the generator wrote no ${PRODUCTS_PATH}`);
  return buildCatalog([parseProducts(body, `${catalog.url}/${PRODUCTS_PATH}`)], {
    url: catalog.url,
    hostArchitecture: process.arch === 'arm64' ? 'aarch64' : 'x86_64',
  }).images;
}

test('thousands of images: the page receives the rows it shows, then a compact copy, and filters, sorts, scrolls and selects all of them without asking again', async ({
  page,
}) => {
  web = await startWebMode({
    LXD_DIR: join(dir, 'no-lxd'),
    LXD_CONF: join(dir, 'no-lxc'),
    HANGAR_DATA_DIR: join(dir, 'hangar-data'),
    NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
  });
  const images = catalogImages();
  const total = images.length;
  expect(total).toBeGreaterThan(2000);

  // Every row or image the page receives, on its socket or in any HTTP answer.
  const received = { rows: 0, largestFrame: 0, chunks: 0 };
  const count = (text: string) => {
    received.largestFrame = Math.max(received.largestFrame, text.length);
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    const value =
      (message as { envelope?: { value?: unknown }; value?: unknown }).envelope?.value ??
      (message as { value?: unknown }).value;
    if (typeof value === 'object' && value !== null && 'rows' in value)
      received.rows += (value as { rows: unknown[] }).rows.length;
    else if (typeof value === 'object' && value !== null && 'strings' in value)
      received.chunks += 1;
    else if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'object')
      // A whole list of images would arrive as an array of them.
      received.rows += value.length;
  };
  // How often the page asked the server for the catalog's list (images.load), and every call made.
  let loads = 0;
  const calls: string[] = [];
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) =>
      count(typeof payload === 'string' ? payload : payload.toString()),
    );
    socket.on('framesent', ({ payload }) => {
      const frame = JSON.parse(typeof payload === 'string' ? payload : payload.toString()) as {
        call?: string;
        input?: { remote?: string };
      };
      if (frame.call === 'images.load' && frame.input?.remote === 'big') loads += 1;
      if (frame.call !== undefined) calls.push(frame.call);
    });
  });
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/api/'))
      void response.text().then(count, () => undefined);
  });
  // Calls with big answers (the copy's chunks) go over HTTP, beside the socket.
  page.on('request', (request) => {
    if (new URL(request.url()).pathname !== '/api/call') return;
    const body = JSON.parse(request.postData() ?? '{}') as { call?: string };
    if (body.call !== undefined) calls.push(body.call);
  });

  await page.setViewportSize({ width: 1400, height: 800 });
  await page.goto(web.url);
  const nav = page.getByRole('navigation', { name: 'Remotes' });
  await nav.getByRole('button', { name: 'Add remote' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add remote' });
  await dialog.getByRole('textbox', { name: 'Name' }).fill('big');
  await dialog.getByRole('radio', { name: 'Simplestreams image server' }).check();
  await dialog.getByRole('textbox', { name: 'Address' }).fill(catalog.url);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  const status = page.getByRole('status');
  await expect(status).toHaveText(`${total} of ${total} images`, { timeout: 30_000 });
  const grid = page.getByRole('grid', { name: 'Images' });
  await expect(grid).toHaveAttribute('aria-rowcount', String(total + 1));
  // The copy comes once the rows are painted; from then on the window works on it.
  await expect.poll(() => received.chunks).toBe(Math.ceil(total / LIST_CHUNK_MAX));
  const before = calls.length;

  // A filter with lxc's semantics, counted where the list is.
  const filter = page.getByRole('searchbox', { name: 'Filter images' });
  const amd64 = filterImages(images, parseFilter('architecture=x86_64')).length;
  await filter.fill('architecture=x86_64');
  await expect(status).toHaveText(`${amd64} of ${total} images`);
  await filter.fill('');
  await expect(status).toHaveText(`${total} of ${total} images`);

  // Sorting by SIZE, descending: the biggest image comes first.
  const biggest = Math.max(...images.map((image) => image.size));
  await grid.getByRole('columnheader', { name: 'SIZE' }).getByRole('button').click();
  await grid.getByRole('columnheader', { name: 'SIZE' }).getByRole('button').click();
  await expect(grid.getByRole('columnheader', { name: 'SIZE' })).toHaveAttribute(
    'aria-sort',
    'descending',
  );
  const firstRow = grid.locator('[role=row][aria-rowindex="2"]');
  await expect(firstRow.getByRole('gridcell').nth(6)).toHaveText(
    `${(biggest / 1024 / 1024).toFixed(2)}MB`,
  );

  // Scrolled fast (30 frames of 600 px), each frame draws the rows it brings into view: none
  // waits for the next frame, which would show an empty strip at the edge.
  const scrolled = await page.evaluate<ScrolledFrames>(scrollFramesScript(600, 30));
  expect(scrolled.withoutRows).toEqual([]);

  // The keyboard reaches the last row, fetched when it comes into view.
  await firstRow.click();
  await grid.press('End');
  const lastRow = grid.locator(`[role=row][aria-rowindex="${total + 1}"]`);
  await expect(lastRow).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('region', { name: 'Image details' })).toContainText(
    (await lastRow.getByRole('gridcell').nth(1).textContent()) ?? '',
  );

  // Ctrl+A selects every match, not only the rows received.
  await grid.press('Control+a');
  await expect(
    page.getByRole('region', { name: 'Image details' }).getByRole('heading', { level: 2 }),
  ).toHaveText(`${total} images selected`);

  // Filtering, sorting, scrolling and selecting asked the main process for no rows (the info
  // pane still reads the images selected).
  const rowCalls = ['images.load', 'images.view', 'images.select', 'images.rows'];
  expect(calls.slice(before).filter((call) => rowCalls.includes(call))).toEqual([]);
  // Everything above took a window of rows and the copy, never the list's images.
  expect(received.rows).toBeLessThan(1500);
  // The catalog was read from the server once: the local remote being unreachable before did
  // not make the new remote's first "online" look like a comeback (a second, needless load).
  expect(loads).toBe(1);
  expect(received.largestFrame).toBeLessThan(512 * 1024);
});
