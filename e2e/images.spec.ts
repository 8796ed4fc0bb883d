import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test, type Page } from '@playwright/test';
import { mainWindowOptions } from '../electron/window-options.js';
import { tar } from '../scripts/sandbox/tar.js';
import { uploadImage } from '../scripts/sandbox/upload.js';
import { e2eEnv, lxc } from './lxd.js';

const { url, fixtures } = e2eEnv();
const COLUMNS = [
  'ALIAS',
  'FINGERPRINT',
  'PUBLIC',
  'DESCRIPTION',
  'ARCHITECTURE',
  'TYPE',
  'SIZE',
  'UPLOAD DATE',
];

const grid = (page: Page) => page.getByRole('grid', { name: 'Images' });
const bodyRows = (page: Page) =>
  grid(page)
    .getByRole('row')
    .filter({ has: page.getByRole('gridcell') });
const firstCells = async (page: Page) =>
  bodyRows(page).locator('[role=gridcell]:first-child').allInnerTexts();

/** A tiny unified image file with `name` as its description; returns its path and fingerprint. */
async function writeImage(
  dir: string,
  name: string,
): Promise<{ file: string; fingerprint: string }> {
  const tarball = gzipSync(
    tar([
      {
        path: 'metadata.yaml',
        content: `architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: ${name}\n`,
      },
      { path: 'rootfs' },
    ]),
  );
  const file = join(dir, `${name}.tar.gz`);
  await writeFile(file, tarball);
  return { file, fingerprint: createHash('sha256').update(tarball).digest('hex') };
}

/** Imports an image from outside Hangar, as another LXD client would. */
async function makeImage(dir: string, name: string, project?: string): Promise<string> {
  const { file, fingerprint } = await writeImage(dir, name);
  await uploadImage(join(e2eEnv().lxdDir, 'unix.socket'), [file], {
    project,
    aliases: [{ name, description: '' }],
  });
  return fingerprint;
}

test('opens on the sandbox images with the columns of lxc image list', async ({ page }) => {
  await page.goto(url);
  await expect(grid(page)).toBeVisible();
  for (const name of COLUMNS)
    await expect(page.getByRole('columnheader', { name, exact: true })).toBeVisible();
  await expect(page.getByRole('status')).toHaveText(
    `${fixtures.length} of ${fixtures.length} images`,
  );
  // Sorted by ALIAS like lxc, "(N more)" for extra aliases, 12-character fingerprints.
  expect(await firstCells(page)).toEqual([
    'fixture/arm64',
    'fixture/public',
    'fixture/split',
    'fixture/unicode',
    'fixture/unified',
    'noble (2 more)',
  ]);
  const multi = fixtures.find((f) => f.key === 'multi');
  const row = bodyRows(page).filter({ hasText: 'noble (2 more)' });
  await expect(row.getByRole('gridcell').nth(1)).toHaveText(multi?.fingerprint.slice(0, 12) ?? '');
  await expect(row.getByRole('gridcell').nth(5)).toHaveText('CONTAINER');
  await expect(
    bodyRows(page).filter({ hasText: 'fixture/public' }).getByRole('gridcell').nth(2),
  ).toHaveText('yes');

  const firstPaint = await page.evaluate(
    () => performance.getEntriesByName('hangar:first-table-paint')[0]?.startTime,
  );
  expect(firstPaint).toBeGreaterThan(0);
  await mkdir('e2e-output', { recursive: true });
  await writeFile(
    'e2e-output/metrics.json',
    JSON.stringify({ firstTablePaintMs: firstPaint }, null, 2),
  );
  console.log(`time to first painted table (web mode): ${firstPaint?.toFixed(0)} ms`);
});

test('filters like lxc image list: key=value on properties, bare terms on aliases and fingerprints', async ({
  page,
}) => {
  await page.goto(url);
  const filter = page.getByRole('searchbox', { name: 'Filter images' });
  await filter.fill('os=Debian');
  await expect
    .poll(() => firstCells(page))
    .toEqual(['fixture/arm64', 'fixture/unicode', 'fixture/unified']);
  await filter.fill('os=Debian arm');
  await expect.poll(() => firstCells(page)).toEqual(['fixture/arm64']);
  await filter.fill('user.note="日本語.*"');
  await expect.poll(() => firstCells(page)).toEqual(['fixture/unicode']);
  const split = fixtures.find((f) => f.key === 'split');
  await filter.fill(split?.fingerprint.slice(3, 10) ?? '');
  await expect.poll(() => firstCells(page)).toEqual(['fixture/split']);
  await filter.fill('os=debian');
  await expect(page.getByRole('status')).toHaveText(`0 of ${fixtures.length} images`);
});

test('sorts by any column, both ways', async ({ page }) => {
  await page.goto(url);
  const header = page.getByRole('columnheader', { name: 'ARCHITECTURE' });
  await header.getByRole('button').click();
  await expect(header).toHaveAttribute('aria-sort', 'ascending');
  await expect(bodyRows(page).first()).toContainText('aarch64');
  await header.getByRole('button').click();
  await expect(header).toHaveAttribute('aria-sort', 'descending');
  await expect(bodyRows(page).last()).toContainText('aarch64');
  await expect(page.getByRole('columnheader', { name: 'ALIAS' })).toHaveAttribute(
    'aria-sort',
    'none',
  );
});

test('the info pane shows everything lxc image info shows', async ({ page }) => {
  await page.goto(url);
  const unicode = fixtures.find((f) => f.key === 'unicode');
  await bodyRows(page).filter({ hasText: 'fixture/unicode' }).click();
  const details = page.getByRole('region', { name: 'Image details' });
  await expect(details).toContainText(unicode?.fingerprint ?? 'missing');
  for (const label of [
    'Size',
    'Architecture',
    'Type',
    'Public',
    'Created',
    'Uploaded',
    'Expires',
    'Last used',
    'Cached',
    'Auto update',
  ]) {
    await expect(details.getByText(label, { exact: true })).toBeVisible();
  }
  await expect(details).toContainText('2023/11/14 22:13');
  const properties = details.getByRole('table', { name: 'Properties' });
  await expect(properties.getByRole('row', { name: /user\.note/ })).toContainText(
    '日本語のメモ with  two spaces',
  );
  await expect(details.getByRole('list', { name: 'Aliases' })).toContainText(
    'fixture/unicode (Ünïcödé alias description)',
  );
  await expect(details.getByRole('list', { name: 'Profiles' })).toHaveText('default');
  await page.screenshot({ path: 'e2e-output/images-info-pane.png' });
});

test('the keyboard moves the selection through the grid', async ({ page }) => {
  await page.goto(url);
  await expect(bodyRows(page)).toHaveCount(fixtures.length);
  await grid(page).focus();
  await page.keyboard.press('ArrowDown');
  await expect(bodyRows(page).first()).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('End');
  await expect(bodyRows(page).last()).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('region', { name: 'Image details' })).toContainText('noble');
  await page.keyboard.press('ArrowUp');
  await expect(page.getByRole('region', { name: 'Image details' })).toContainText(
    'fixture/unified',
  );
  // Escape clears the selection, and the pane goes: the table takes its width back. At the
  // desktop window's default size, every column of lxc image list is then in view.
  await page.keyboard.press('Escape');
  await expect(page.getByRole('region', { name: 'Image details' })).toHaveCount(0);
  const { width = 0, height = 0 } = mainWindowOptions('');
  await page.setViewportSize({ width, height });
  const gridBox = await grid(page).boundingBox();
  const lastColumn = await page.getByRole('columnheader', { name: 'UPLOAD DATE' }).boundingBox();
  expect(lastColumn?.x ?? Infinity).toBeGreaterThan(0);
  expect((lastColumn?.x ?? Infinity) + (lastColumn?.width ?? 0)).toBeLessThanOrEqual(
    (gridBox?.x ?? 0) + (gridBox?.width ?? 0),
  );
});

test('the details pane is as wide as the user drags it, and stays so', async ({ page }) => {
  await page.goto(url);
  await expect(bodyRows(page)).toHaveCount(fixtures.length);
  const handle = page.getByRole('separator', { name: 'Details pane width' });
  // The handle comes with the pane.
  await expect(handle).toHaveCount(0);
  await bodyRows(page).first().click();
  const details = page.getByRole('region', { name: 'Image details' });
  await expect(handle).toHaveAttribute('aria-valuenow', '420');
  const paneWidth = async () => (await details.boundingBox())?.width ?? 0;
  const gridWidth = async () => (await grid(page).boundingBox())?.width ?? 0;
  expect(await paneWidth()).toBe(420);
  const tableBefore = await gridWidth();

  // Dragged 100 px to the left: the pane grows by 100 px and the table gives them up.
  const box = (await handle.boundingBox()) ?? { x: 0, y: 0, width: 0, height: 0 };
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x - 60, y);
  await page.mouse.move(x - 100, y);
  await page.mouse.up();
  await expect(handle).toHaveAttribute('aria-valuenow', '520');
  expect(await paneWidth()).toBe(520);
  expect(await gridWidth()).toBe(tableBefore - 100);

  // The keyboard: arrows move the handle 16 px (the pane grows leftwards), Home gives the
  // narrowest pane; the table keeps at least 360 px however far the pane is asked to grow.
  await handle.focus();
  await page.keyboard.press('ArrowRight');
  await expect(handle).toHaveAttribute('aria-valuenow', '504');
  await page.keyboard.press('Home');
  await expect(handle).toHaveAttribute('aria-valuenow', '280');
  expect(await paneWidth()).toBe(280);
  await page.keyboard.press('End');
  await expect.poll(gridWidth).toBe(360);

  // Kept for the next session; at a narrower window the table still keeps its minimum.
  await page.keyboard.press('ArrowRight');
  await page.reload();
  await bodyRows(page).first().click();
  const kept = Number(await handle.getAttribute('aria-valuenow'));
  expect(kept).toBeGreaterThan(420);
  expect(await paneWidth()).toBe(kept);
  await page.setViewportSize({ width: 900, height: 700 });
  await expect.poll(gridWidth).toBe(360);
  // Double-click: the default width again.
  await page.setViewportSize({ width: 1400, height: 800 });
  await handle.dblclick();
  await expect(handle).toHaveAttribute('aria-valuenow', '420');
  expect(await paneWidth()).toBe(420);
  await handle.hover();
  await page.screenshot({ path: 'e2e-output/details-pane-handle.png' });
});

test('follows changes made outside Hangar without a refresh', async ({ page }, testInfo) => {
  await page.goto(url);
  await expect(bodyRows(page)).toHaveCount(fixtures.length);
  const dir = testInfo.outputPath('images');
  await mkdir(dir, { recursive: true });
  const fingerprint = await makeImage(dir, 'live-update');
  const row = bodyRows(page).filter({ hasText: fingerprint.slice(0, 12) });
  await expect(row.getByRole('gridcell').first()).toHaveText('live-update');
  // An alias added: the ALIAS cell shows the shortest one and the count.
  await lxc('image', 'alias', 'create', 'live', fingerprint);
  await expect(row.getByRole('gridcell').first()).toHaveText('live (1 more)');
  // A property edited: the DESCRIPTION cell follows.
  await lxc('image', 'set-property', fingerprint, 'description', 'edited outside');
  await expect(row.getByRole('gridcell').nth(3)).toHaveText('edited outside');
  await lxc('image', 'alias', 'delete', 'live');
  await expect(row.getByRole('gridcell').first()).toHaveText('live-update');
  await lxc('image', 'delete', fingerprint);
  await expect(row).toHaveCount(0);
  await expect(page.getByRole('status')).toHaveText(
    `${fixtures.length} of ${fixtures.length} images`,
  );
});

test('a page that lost its connection catches up on what changed meanwhile, and on operations', async ({
  page,
  browser,
}, testInfo) => {
  // The page's sockets, to cut its connection as a dropped network would (a string: the tests
  // are not typed for the DOM).
  await page.addInitScript(`
    window.sockets = [];
    window.WebSocket = class extends window.WebSocket {
      constructor(...args) { super(...args); window.sockets.push(this); }
    };
  `);
  await page.goto(url);
  await expect(bodyRows(page)).toHaveCount(fixtures.length);
  await page.context().setOffline(true);
  await page.evaluate('for (const socket of window.sockets) socket.close()');
  const dir = testInfo.outputPath('images');
  await mkdir(dir, { recursive: true });
  const fingerprint = await makeImage(dir, 'while-away');
  // The other window imports one through Hangar: an operation the first page did not hear of.
  const imported = await writeImage(dir, 'imported-while-away');
  const operation = (on: Page) =>
    on
      .getByRole('region', { name: 'Operations' })
      .getByRole('listitem', { name: /^Import imported-while-away/ });
  try {
    // Another window shows it: Hangar sent its event while the first page could not hear it.
    const other = await browser.newPage();
    await other.goto(url);
    await expect(
      bodyRows(other)
        .filter({ hasText: fingerprint.slice(0, 12) })
        .getByRole('gridcell')
        .first(),
    ).toHaveText('while-away');
    await other.getByLabel('Choose image files').setInputFiles(imported.file);
    await other
      .getByRole('dialog', { name: 'Import image' })
      .getByRole('button', { name: 'Import', exact: true })
      .click();
    await expect(operation(other)).toContainText('Done', { timeout: 30_000 });
    await other.close();
    await expect(bodyRows(page)).toHaveCount(fixtures.length);
    await expect(operation(page)).toHaveCount(0);
    await page.context().setOffline(false);
    const row = bodyRows(page).filter({ hasText: fingerprint.slice(0, 12) });
    await expect(row.getByRole('gridcell').first()).toHaveText('while-away', { timeout: 10_000 });
    await expect(page.getByRole('status')).toHaveText(
      `${fixtures.length + 2} of ${fixtures.length + 2} images`,
    );
    await expect(operation(page)).toContainText('Done');
  } finally {
    await lxc('image', 'delete', fingerprint);
    await lxc('image', 'delete', imported.fingerprint).catch(() => undefined);
  }
});

test('a large project scrolls through a virtualized table', async ({ page }, testInfo) => {
  const count = 80;
  await lxc(
    'project',
    'create',
    'bulk',
    '-c',
    'features.images=true',
    '-c',
    'features.profiles=false',
  );
  const dir = testInfo.outputPath('bulk');
  await mkdir(dir, { recursive: true });
  const names = Array.from({ length: count }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
  for (let i = 0; i < names.length; i += 8) {
    await Promise.all(names.slice(i, i + 8).map((name) => makeImage(dir, name, 'bulk')));
  }
  await page.setViewportSize({ width: 1400, height: 500 });
  await page.goto(url);
  await page.getByRole('combobox', { name: 'Project' }).selectOption('bulk');
  await expect(page.getByRole('status')).toHaveText(`${count} of ${count} images`);
  await expect(grid(page)).toHaveAttribute('aria-rowcount', String(count + 1));
  // Only the rows near the viewport exist in the DOM.
  expect(await bodyRows(page).count()).toBeLessThan(count / 2);
  await grid(page).focus();
  await page.keyboard.press('End');
  const last = bodyRows(page).filter({ hasText: 'bulk-079' });
  await expect(last).toBeVisible();
  await expect(last).toHaveAttribute('aria-rowindex', String(count + 1));
  await expect(bodyRows(page).filter({ hasText: 'bulk-000' })).toHaveCount(0);
});
