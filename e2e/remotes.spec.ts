/**
 * Remotes through the UI, as a user adds them: the second sandbox daemon
 * with a trust token, a simplestreams server on loopback; both browsed and
 * filtered, and both still there after Hangar restarts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test, type Page } from '@playwright/test';
import { createSelfSignedCertificate } from '../electron/tls/certificate.js';
import { generateCatalog } from '../scripts/simplestreams/catalog-generator.js';
import { trustToken } from '../scripts/sandbox/trust-token.js';
import {
  startSimplestreamsServer,
  type SimplestreamsServer,
} from '../scripts/simplestreams/server.js';
import { e2eEnv, e2eRemote, lxcOnRemote } from './lxd.js';
import { startWebMode, type RunningWebMode } from './web-mode.js';

const run = promisify(execFile);
const { lxdDir, fixtures } = e2eEnv();
const publicCount = fixtures.filter((fixture) => fixture.public).length;

const remotesNav = (page: Page) => page.getByRole('navigation', { name: 'Remotes' });
const grid = (page: Page) => page.getByRole('grid', { name: 'Images' });
const groups = (fingerprint: string) => fingerprint.match(/.{2}/g)?.join(':') ?? '';

let dir: string;
let catalog: SimplestreamsServer;
let caFile: string;
let web: RunningWebMode | undefined;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-remotes-'));
  catalog = await startSimplestreamsServer({
    files: generateCatalog({ products: 12, versionsPerProduct: 3 }).files,
  });
  caFile = join(dir, 'catalog-ca.pem');
  await writeFile(caFile, catalog.ca);
});
test.afterAll(async () => {
  await web?.stop();
  await catalog.close();
  await rm(dir, { recursive: true, force: true });
});

/** Hangar in web mode on the sandbox, with its own data directory so restarts keep remotes. */
async function startHangar(): Promise<RunningWebMode> {
  return startWebMode({
    LXD_DIR: lxdDir,
    HANGAR_DATA_DIR: join(dir, 'hangar-data'),
    LXD_CONF: join(dir, 'lxc-config'),
    // How a user trusts a private CA for Node programs; the test server's certificate is one.
    NODE_EXTRA_CA_CERTS: caFile,
  });
}

/** What the real lxc client lists for the same simplestreams server. */
async function lxcCatalogCount(...filters: string[]): Promise<number> {
  const env = { ...process.env, LXD_CONF: join(dir, 'lxc-client'), SSL_CERT_FILE: caFile };
  await run(
    'lxc',
    ['remote', 'add', 'cat', catalog.url, '--protocol', 'simplestreams', '--public'],
    {
      env,
    },
  ).catch(() => undefined);
  const { stdout } = await run(
    'lxc',
    ['image', 'list', 'cat:', ...filters, '--format', 'csv', '-c', 'f'],
    { env },
  );
  return stdout.split('\n').filter((line) => line !== '').length;
}

test('adds an LXD remote with a trust token and a simplestreams remote, browses and filters both, and keeps them after a restart', async ({
  page,
}) => {
  web = await startHangar();
  await page.goto(web.url);
  const nav = remotesNav(page);
  for (const name of ['local', 'images', 'ubuntu', 'ubuntu-daily'])
    await expect(nav.getByRole('link', { name, exact: true })).toBeVisible();

  // An LXD server, trusted with a token made on it.
  const token = await trustToken(e2eRemote().dir, 'hangar-e2e');
  const serverFingerprint = /certificate_fingerprint: (\w+)/.exec(await lxcOnRemote('info'))?.[1];
  await nav.getByRole('button', { name: 'Add remote' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add remote' });
  await dialog.getByRole('textbox', { name: 'Token' }).fill(token);
  await dialog.getByRole('button', { name: 'Connect' }).click();
  const certificate = dialog.getByRole('region', { name: 'Server certificate' });
  await expect(certificate).toContainText(groups(serverFingerprint ?? ''));
  await expect(certificate).toContainText(`https://${e2eRemote().https}`);
  // The token's client name is offered as the remote's name.
  await expect(dialog.getByRole('textbox', { name: 'Name' })).toHaveValue('hangar-e2e');
  await dialog.getByRole('textbox', { name: 'Name' }).fill('second');
  await page.screenshot({ path: 'e2e-output/add-remote.png' });
  await dialog.getByRole('button', { name: 'Trust and add' }).click();
  await expect(dialog).toBeHidden();
  await expect(nav.getByRole('link', { name: 'second', exact: true })).toHaveAttribute(
    'aria-current',
    'page',
  );
  await expect(page.getByRole('status')).toHaveText(
    `${fixtures.length} of ${fixtures.length} images`,
  );
  await page.getByRole('searchbox', { name: 'Filter images' }).fill('os=Debian arm');
  await expect(page.getByRole('status')).toHaveText(`1 of ${fixtures.length} images`);
  await expect(grid(page).getByRole('gridcell', { name: 'fixture/arm64' })).toBeVisible();

  // A simplestreams server: the same table, what lxc lists for it.
  await nav.getByRole('button', { name: 'Add remote' }).click();
  await dialog.getByRole('textbox', { name: 'Name' }).fill('catalog');
  await dialog.getByRole('radio', { name: 'Simplestreams image server' }).check();
  await dialog.getByRole('textbox', { name: 'Address' }).fill(catalog.url);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(nav.getByRole('link', { name: 'catalog', exact: true })).toHaveAttribute(
    'aria-current',
    'page',
  );
  const expected = await lxcCatalogCount();
  await page.getByRole('searchbox', { name: 'Filter images' }).fill('');
  await expect(page.getByRole('status')).toHaveText(`${expected} of ${expected} images`);
  await page.getByRole('searchbox', { name: 'Filter images' }).fill('hangar/fixture');
  const fixtureRows = await lxcCatalogCount('hangar/fixture');
  expect(fixtureRows).toBeGreaterThan(0);
  await expect(page.getByRole('status')).toHaveText(`${fixtureRows} of ${expected} images`);
  await page.screenshot({ path: 'e2e-output/simplestreams-remote.png' });

  // Restarted, Hangar still has both, still trusted.
  await web.stop();
  web = await startHangar();
  await page.goto(web.url);
  await expect(remotesNav(page).getByRole('link', { name: 'catalog', exact: true })).toBeVisible();
  await remotesNav(page).getByRole('link', { name: 'second', exact: true }).click();
  await page.getByRole('searchbox', { name: 'Filter images' }).fill('');
  await expect(page.getByRole('status')).toHaveText(
    `${fixtures.length} of ${fixtures.length} images`,
  );
});

test('a public LXD remote shows only public images; a wrong address says why and keeps the draft', async ({
  page,
}) => {
  web ??= await startHangar();
  await page.goto(web.url);
  const nav = remotesNav(page);
  await nav.getByRole('button', { name: 'Add remote' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add remote' });
  await dialog.getByRole('textbox', { name: 'Name' }).fill('pub');
  await dialog.getByRole('radio', { name: /^Public/ }).check();
  await dialog.getByRole('textbox', { name: 'Address' }).fill('127.0.0.1:1');
  await dialog.getByRole('button', { name: 'Connect' }).click();
  await expect(dialog.getByRole('alert')).toHaveText(
    'Cannot reach https://127.0.0.1:1: connection refused (is LXD listening there? `lxc config set core.https_address`).',
  );
  await expect(dialog.getByRole('textbox', { name: 'Name' })).toHaveValue('pub');

  await dialog.getByRole('textbox', { name: 'Address' }).fill(e2eRemote().https);
  await dialog.getByRole('button', { name: 'Connect' }).click();
  await dialog.getByRole('button', { name: 'Trust and add' }).click();
  await expect(nav.getByRole('link', { name: 'pub', exact: true })).toHaveAttribute(
    'aria-current',
    'page',
  );
  await expect(page.getByRole('status')).toHaveText(`${publicCount} of ${publicCount} images`);
  await expect(page.getByText('public images only')).toBeVisible();

  // The server now presents another certificate (here: Hangar's pin is replaced while it is stopped).
  await web.stop();
  const impostor = await createSelfSignedCertificate({ commonName: 'old', usage: 'server' });
  await writeFile(join(dir, 'hangar-data', 'servercerts', 'pub.crt'), impostor.certificate);
  web = await startHangar();
  await page.goto(web.url);
  await remotesNav(page).getByRole('link', { name: 'pub', exact: true }).click();
  await expect(
    page.getByRole('heading', { name: 'pub presents a different certificate' }),
  ).toBeVisible();
  const certificates = page.getByRole('region', { name: 'Certificates' });
  await expect(certificates).toContainText(groups(impostor.fingerprint));
  const serverFingerprint = /certificate_fingerprint: (\w+)/.exec(await lxcOnRemote('info'))?.[1];
  await expect(certificates).toContainText(groups(serverFingerprint ?? ''));
  await page.screenshot({ path: 'e2e-output/certificate-changed.png' });
  await certificates.getByRole('button', { name: 'Trust the new certificate' }).click();
  await expect(page.getByRole('status')).toHaveText(`${publicCount} of ${publicCount} images`);

  // Removing it asks first, then the default remote is shown.
  await page.getByRole('button', { name: 'Remove…' }).click();
  await page
    .getByRole('dialog', { name: 'Remove pub?' })
    .getByRole('button', { name: 'Remove' })
    .click();
  await expect(remotesNav(page).getByRole('link', { name: 'pub', exact: true })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'local', exact: true })).toHaveAttribute(
    'aria-current',
    'page',
  );
});
