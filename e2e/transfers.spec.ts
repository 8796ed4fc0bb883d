/**
 * Moving images through the UI against the real sandbox daemons: dropping a
 * unified and a split image onto the window, copying from the second daemon
 * with its aliases and auto-update, cancelling a copy, exporting and
 * importing again with an equal fingerprint, importing from a URL, launching.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { expect, test, type Page } from '@playwright/test';
import { tar } from '../scripts/sandbox/tar.js';
import { e2eEnv, e2eRemote, lxc, lxcOnRemote } from './lxd.js';
import { trustToken } from '../scripts/sandbox/trust-token.js';
import { deleteProject } from '../scripts/sandbox/projects.js';
import { startThrottleProxy, type ThrottleProxy } from '../scripts/sandbox/throttle-proxy.js';
import { startWebMode, type RunningWebMode } from './web-mode.js';

const run = promisify(execFile);
const { lxdDir } = e2eEnv();
const project = 'e2e-transfers';
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let dir: string;
let web: RunningWebMode;
/** The second daemon is reached through it, so a copy from it can be slowed down. */
let slowLink: ThrottleProxy;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-transfers-'));
  await lxc('project', 'create', project, '-c', 'features.profiles=false').catch(() => undefined);
  // host:port, as core.https_address says it.
  const remote = new URL(`https://${e2eRemote().https}`);
  slowLink = await startThrottleProxy({ host: remote.hostname, port: Number(remote.port) });
  web = await startWebMode({
    LXD_DIR: lxdDir,
    HANGAR_DATA_DIR: join(dir, 'hangar-data'),
    LXD_CONF: join(dir, 'lxc-config'),
  });
});
test.afterAll(async () => {
  await web.stop();
  await slowLink.close();
  await deleteProject(lxdDir, project);
  await rm(dir, { recursive: true, force: true });
});

const operations = (page: Page) => page.getByRole('region', { name: 'Operations' });
const operationItem = (page: Page, title: string | RegExp) =>
  operations(page).getByRole('listitem', { name: title });
const grid = (page: Page) => page.getByRole('grid', { name: 'Images' });

async function openProject(page: Page, remote: string, name: string): Promise<void> {
  await page.goto(web.url);
  // The fragment survives the token link's redirect.
  await page.goto(`${web.url}#${new URLSearchParams({ remote, project: name }).toString()}`);
  await expect(page.getByRole('combobox', { name: 'Project' })).toHaveValue(name);
}

async function selectImage(page: Page, alias: string): Promise<void> {
  await page.getByRole('searchbox', { name: 'Filter images' }).fill(alias);
  await grid(page).getByRole('gridcell', { name: alias, exact: true }).click();
}

/** Files a user would drop: bytes built here, handed to the page as File objects. */
async function dropFiles(page: Page, files: { name: string; bytes: Buffer }[]): Promise<void> {
  // Evaluated in the page (a string: this file is typed for Node, not the DOM).
  const list = JSON.stringify(
    files.map((file) => ({ name: file.name, base64: file.bytes.toString('base64') })),
  );
  const dataTransfer = await page.evaluateHandle(`(() => {
    const transfer = new DataTransfer();
    for (const file of ${list}) {
      const bytes = Uint8Array.from(atob(file.base64), (char) => char.charCodeAt(0));
      transfer.items.add(new File([bytes], file.name));
    }
    return transfer;
  })()`);
  const zone = page.getByRole('region', { name: 'Import images' });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await expect(zone).toContainText('Drop to import');
  await zone.dispatchEvent('drop', { dataTransfer });
}

function uniqueRootfs(id: string) {
  return [
    { path: 'rootfs' },
    { path: 'rootfs/etc' },
    { path: 'rootfs/etc/hostname', content: `${id}\n` },
  ];
}

/** A small gzip unified image, unique to `id`. */
function unifiedImage(id: string, description: string): Buffer {
  return gzipSync(
    tar([
      {
        path: 'metadata.yaml',
        content: `architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: ${description}\n`,
      },
      ...uniqueRootfs(id),
    ]),
  );
}

async function splitImage(id: string): Promise<{ metadata: Buffer; rootfs: Buffer }> {
  const metadataTar = join(dir, `${id}-meta.tar`);
  await writeFile(
    metadataTar,
    tar([
      {
        path: 'metadata.yaml',
        content: `architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: dropped split ${id}\n`,
      },
      { path: 'templates' },
    ]),
  );
  await run('xz', ['-f', metadataTar]);
  const metadata = await readFile(`${metadataTar}.xz`);
  // The rootfs is bigger than the metadata: that is how Hangar tells dropped files apart.
  const rootfs = gzipSync(
    tar([...uniqueRootfs(id), { path: 'rootfs/filler', content: randomBytes(64 * 1024) }]),
  );
  return { metadata, rootfs };
}

async function waitForDone(page: Page, title: string | RegExp): Promise<void> {
  await expect(operationItem(page, title)).toContainText(/Done|Failed|Cancelled/, {
    timeout: 30_000,
  });
  await expect(operationItem(page, title)).toContainText('Done');
}

async function addSecondRemote(page: Page): Promise<void> {
  const token = await trustToken(e2eRemote().dir, 'e2e-transfers');
  const nav = page.getByRole('navigation', { name: 'Remotes' });
  await nav.getByRole('button', { name: 'Add remote' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add remote' });
  await dialog.getByRole('textbox', { name: 'Address' }).fill(slowLink.address);
  await dialog.getByRole('textbox', { name: 'Token' }).fill(token);
  await dialog.getByRole('button', { name: 'Connect' }).click();
  // The server's answer offers the token's name; the user's own name goes in after it.
  await expect(dialog.getByRole('region', { name: 'Server certificate' })).toBeVisible();
  await dialog.getByRole('textbox', { name: 'Name' }).fill('second');
  await dialog.getByRole('button', { name: 'Trust and add' }).click();
  await expect(dialog).toBeHidden();
}

test('drops a unified and a split image onto the window and imports them', async ({ page }) => {
  await openProject(page, 'local', project);
  const id = randomBytes(6).toString('hex');
  const unified = unifiedImage(id, `dropped unified ${id}`);
  await dropFiles(page, [{ name: `unified-${id}.tar.gz`, bytes: unified }]);
  let dialog = page.getByRole('dialog', { name: 'Import image' });
  await expect(dialog.getByRole('list', { name: 'Files to import' })).toContainText(
    'unified image',
  );
  await dialog.getByRole('textbox', { name: 'Aliases' }).fill(`dropped/unified`);
  await dialog.getByRole('textbox', { name: 'Extra properties' }).fill('os=Hangar\nbad line');
  await expect(dialog.getByRole('alert')).toHaveText('Line 2: "bad line" is not key=value.');
  await expect(dialog.getByRole('button', { name: 'Import' })).toBeDisabled();
  await dialog.getByRole('textbox', { name: 'Extra properties' }).fill('os=Hangar');
  await expect(dialog.getByLabel('Equivalent lxc command')).toHaveText(
    `lxc image import unified-${id}.tar.gz local: --alias dropped/unified --project ${project} os=Hangar`,
  );
  await dialog.getByRole('button', { name: 'Import' }).click();
  await waitForDone(page, /^Import unified-/);
  await expect(grid(page).getByRole('gridcell', { name: 'dropped/unified' })).toBeVisible();
  const listed = await lxc('image', 'list', '--project', project, '-c', 'F', '--format', 'csv');
  expect(listed).toContain(sha256(unified));
  expect(await lxc('image', 'get-property', '--project', project, sha256(unified), 'os')).toBe(
    'Hangar\n',
  );

  // Split: two files in either order; the metadata is known by content (here the other file is a
  // gzip rootfs the browser reads; the xz metadata it cannot), and listed first.
  const split = await splitImage(id);
  await dropFiles(page, [
    { name: `rootfs-${id}.tar.gz`, bytes: split.rootfs },
    { name: `meta-${id}.tar.xz`, bytes: split.metadata },
  ]);
  dialog = page.getByRole('dialog', { name: 'Import image' });
  const files = dialog.getByRole('list', { name: 'Files to import' }).getByRole('listitem');
  await expect(files.nth(0)).toContainText(`meta-${id}.tar.xz`);
  await expect(files.nth(0)).toContainText('metadata (the other file is a root filesystem)');
  await expect(files.nth(1)).toContainText('rootfs');
  await dialog.getByRole('textbox', { name: 'Aliases' }).fill('dropped/split');
  await dialog.getByRole('button', { name: 'Import' }).click();
  await waitForDone(page, /^Import meta-/);
  await expect(grid(page).getByRole('gridcell', { name: 'dropped/split' })).toBeVisible();
  const combined = createHash('sha256').update(split.metadata).update(split.rootfs).digest('hex');
  expect(await lxc('image', 'list', '--project', project, '-c', 'F', '--format', 'csv')).toContain(
    combined,
  );

  // The same file again: nothing imported, a link to the image that is there.
  await dropFiles(page, [{ name: `again-${id}.tar.gz`, bytes: unified }]);
  await page
    .getByRole('dialog', { name: 'Import image' })
    .getByRole('button', { name: 'Import' })
    .click();
  const again = operationItem(page, /^Import again-/);
  await expect(again).toContainText('Failed');
  await expect(again).toContainText(`This image is already on local (project ${project})`);
  // The link shows the image that is there, also from another project's list.
  await openProject(page, 'local', 'default');
  await again.getByRole('link', { name: /^Show image/ }).click();
  await expect(page.getByRole('combobox', { name: 'Project' })).toHaveValue(project);
  await expect(page.getByRole('region', { name: 'Image details' })).toContainText(sha256(unified));
  await page.screenshot({ path: 'e2e-output/import-operations.png' });
});

test('copies from the second daemon with its aliases and auto-update, cancels a big copy, and survives a reload', async ({
  page,
}) => {
  await page.goto(web.url);
  await addSecondRemote(page);
  await selectImage(page, 'fixture/split');
  await page.getByRole('button', { name: 'Copy to…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Copy fixture/split' });
  await dialog.getByRole('combobox', { name: 'Target remote' }).selectOption('local');
  await dialog.getByRole('combobox', { name: 'Target project' }).selectOption(project);
  await dialog.getByRole('checkbox', { name: "Copy the source's aliases" }).check();
  await dialog.getByRole('checkbox', { name: 'Keep it up to date (auto update)' }).check();
  await dialog.getByRole('textbox', { name: 'New aliases' }).fill('copied/split');
  const command = `lxc image copy second:fixture/split local: --alias copied/split --copy-aliases --auto-update --target-project ${project}`;
  await expect(dialog.getByLabel('Equivalent lxc command')).toHaveText(command);
  await dialog.getByRole('button', { name: 'Copy' }).click();
  const title = `Copy second:fixture/split to local (project ${project})`;
  await waitForDone(page, title);
  await expect(
    operationItem(page, title).getByRole('button', { name: `Copy command: ${command}` }),
  ).toBeVisible();
  const shown = await lxc('image', 'show', '--project', project, 'copied/split');
  expect(shown).toContain('auto_update: true');
  expect(await lxc('image', 'alias', 'list', '--project', project, '--format', 'csv')).toContain(
    'fixture/split',
  );

  // A copy over a slow link, cancelled from the panel while LXD downloads it.
  const bigFile = join(dir, 'big.tar');
  const big = tar([
    { path: 'metadata.yaml', content: 'architecture: x86_64\ncreation_date: 1700000000\n' },
    { path: 'rootfs' },
    { path: 'rootfs/blob', content: randomBytes(32 * 1024 * 1024) },
  ]);
  await writeFile(bigFile, big);
  await lxcOnRemote('image', 'import', bigFile, '--alias', 'e2e/big');
  await rm(bigFile);
  // 32 MiB at 2 MiB/s: about 16 s of download, whatever the machine.
  slowLink.setRate(2 * 1024 * 1024);
  try {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await selectImage(page, 'e2e/big');
    await page.getByRole('button', { name: 'Copy to…' }).click();
    const bigDialog = page.getByRole('dialog', { name: 'Copy e2e/big' });
    await bigDialog.getByRole('combobox', { name: 'Target remote' }).selectOption('local');
    await bigDialog.getByRole('combobox', { name: 'Target project' }).selectOption(project);
    await bigDialog.getByRole('button', { name: 'Copy' }).click();
    const item = operationItem(page, `Copy second:e2e/big to local (project ${project})`);
    // Enabled once LXD reports the download and says it can be cancelled.
    await expect(item.getByRole('button', { name: 'Cancel' })).toBeEnabled();
    await item.getByRole('button', { name: 'Cancel' }).click();
    await expect(item).toContainText('Cancelled', { timeout: 15_000 });
    // Operations live in the main process: a reloaded page still has them.
    await page.reload();
    await expect(item).toContainText('Cancelled');
    await expect(
      operationItem(page, `Copy second:fixture/split to local (project ${project})`),
    ).toContainText('Done');
    expect(
      await lxc('image', 'list', '--project', project, '-c', 'F', '--format', 'csv'),
    ).not.toContain(sha256(big));
  } finally {
    slowLink.setRate(Infinity);
    await lxcOnRemote('image', 'delete', 'e2e/big');
  }
});

test('exports an image as a browser download and imports the files again with the same fingerprint', async ({
  page,
}) => {
  const out = join(dir, 'exported');
  await mkdir(out, { recursive: true });
  // A split image of its own, put there by lxc.
  const id = randomBytes(6).toString('hex');
  const split = await splitImage(id);
  await writeFile(join(dir, `meta-${id}.tar.xz`), split.metadata);
  await writeFile(join(dir, `rootfs-${id}.tar.gz`), split.rootfs);
  await lxc(
    'image',
    'import',
    join(dir, `meta-${id}.tar.xz`),
    join(dir, `rootfs-${id}.tar.gz`),
    '--alias',
    'exported/split',
    '--project',
    project,
  );
  const fingerprint = createHash('sha256')
    .update(split.metadata)
    .update(split.rootfs)
    .digest('hex');
  await openProject(page, 'local', project);
  await selectImage(page, 'exported/split');
  await page.getByRole('button', { name: 'Export…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Export exported/split' });
  // Web mode writes nothing on Hangar's machine: no folder to type or choose, a download.
  await expect(dialog.getByRole('textbox', { name: 'Folder' })).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: 'Choose…' })).toHaveCount(0);
  await expect(dialog.getByLabel('Equivalent lxc command')).toHaveText(
    `lxc image export local:${fingerprint} ./ --project ${project}`,
  );
  const downloading = page.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Download' }).click();
  const download = await downloading;
  // A split image is one tar archive holding its two files.
  expect(download.suggestedFilename()).toBe(`${fingerprint}.split.tar`);
  const archive = join(out, download.suggestedFilename());
  await download.saveAs(archive);
  expect(await download.failure()).toBeNull();
  // The export is an operation too, with its progress; it ends when the browser has it all.
  await waitForDone(page, /^Export local:.* as a download$/);
  await run('tar', ['-xf', archive, '-C', out]);
  await rm(archive);
  const names = (await readdir(out)).sort();
  expect(names).toHaveLength(2);
  const files = await Promise.all(
    names.map(async (name) => ({ name, bytes: await readFile(join(out, name)) })),
  );
  const metadata = files.find((file) => file.name.startsWith('meta-'));
  const rootfs = files.find((file) => !file.name.startsWith('meta-'));
  if (metadata === undefined || rootfs === undefined) throw new Error('two files expected');
  expect(createHash('sha256').update(metadata.bytes).update(rootfs.bytes).digest('hex')).toBe(
    fingerprint,
  );

  // Gone from the project, then back from the downloaded files: the same fingerprint.
  await lxc('image', 'delete', '--project', project, fingerprint);
  await expect(grid(page).getByRole('gridcell', { name: 'exported/split' })).toHaveCount(0);
  await dropFiles(page, files);
  const importDialog = page.getByRole('dialog', { name: 'Import image' });
  await importDialog.getByRole('textbox', { name: 'Aliases' }).fill('exported/split');
  await importDialog.getByRole('button', { name: 'Import' }).click();
  await waitForDone(page, `Import ${metadata.name} + ${rootfs.name} into local`);
  expect(await lxc('image', 'list', '--project', project, '-c', 'F', '--format', 'csv')).toContain(
    fingerprint,
  );
});

test('imports from a URL, and launches an instance whose start LXD may refuse', async ({
  page,
}) => {
  const id = randomBytes(6).toString('hex');
  const image = unifiedImage(id, `from url ${id}`);
  const server: Server = createServer((request, response) => {
    const { port } = server.address() as AddressInfo;
    if (request.url === '/image') {
      response.writeHead(200, {
        'LXD-Image-URL': `http://127.0.0.1:${port}/image.tar.gz`,
        'LXD-Image-Hash': sha256(image),
      });
      response.end();
    } else {
      response.writeHead(200, { 'content-length': image.length });
      response.end(image);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await openProject(page, 'local', project);
    await page.getByRole('button', { name: 'Import from URL…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import from URL' });
    const { port } = server.address() as AddressInfo;
    await dialog.getByRole('textbox', { name: 'URL' }).fill(`http://127.0.0.1:${port}/image`);
    await dialog.getByRole('textbox', { name: 'Aliases' }).fill('from/url');
    await dialog.getByRole('button', { name: 'Import' }).click();
    await waitForDone(page, /^Import http:/);
    await expect(grid(page).getByRole('gridcell', { name: 'from/url' })).toBeVisible();
  } finally {
    server.close();
  }

  await selectImage(page, 'from/url');
  await page.getByRole('button', { name: 'Launch…' }).click();
  const launch = page.getByRole('dialog', { name: 'Launch from/url' });
  await launch.getByRole('textbox', { name: 'Instance name' }).fill('e2e-launched');
  await expect(launch.getByLabel('Equivalent lxc command')).toHaveText(
    `lxc launch local:from/url local:e2e-launched --project ${project}`,
  );
  await launch.getByRole('button', { name: 'Launch' }).click();
  const item = operationItem(page, /^Launch e2e-launched/);
  await expect(item).toContainText(/Done|Failed/, { timeout: 30_000 });
  // The instance exists either way; where the host cannot start containers, LXD's reason is shown.
  expect(await lxc('list', '--project', project, '-c', 'n', '--format', 'csv')).toContain(
    'e2e-launched',
  );
  if ((await item.textContent())?.includes('Failed'))
    await expect(item).toContainText('e2e-launched was created but LXD could not start it:');
  await page.screenshot({ path: 'e2e-output/launch.png' });
});
