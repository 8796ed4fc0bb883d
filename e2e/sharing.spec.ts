/**
 * Sharing and building through the UI in web mode: "Share…" gives the
 * commands for this very server, "Export as simplestreams…" says why web
 * mode cannot write a tree, and "Build image" drafts metadata.yaml with
 * LXD's rules (web mode reads no folder on Hangar's machine).
 */
import { expect, test, type Page } from '@playwright/test';
import { e2eEnv, lxc } from './lxd.js';

const { url } = e2eEnv();
const details = (page: Page) => page.getByRole('region', { name: 'Image details' });

async function selectImage(page: Page, alias: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('searchbox', { name: 'Filter images' }).fill(alias);
  await page.getByRole('grid', { name: 'Images' }).getByRole('gridcell', { name: alias }).click();
  await expect(details(page)).toContainText(alias);
}

test('Share… gives the commands for this server, with its own address', async ({ page }) => {
  const address = (await lxc('config', 'get', 'core.https_address')).trim();
  await selectImage(page, 'fixture/public');
  await details(page).getByRole('button', { name: 'Share…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Share fixture/public' });
  await expect(dialog).toContainText('This image is public');
  const commands = dialog.getByRole('list', { name: 'Share commands' });
  await expect(commands).toContainText(`https://${address} --public`);
  await expect(commands).toContainText('lxc image copy <name>:fixture/public local:');
  await expect(dialog).toContainText('LXD-Image-Hash');
});

test('Export as simplestreams… says why web mode writes no tree', async ({ page }) => {
  await selectImage(page, 'fixture/unified');
  await details(page).getByRole('button', { name: 'Export as simplestreams…' }).click();
  await expect(page.getByRole('dialog')).toContainText('In web mode Hangar writes nothing');
});

test('Build image drafts metadata.yaml and refuses a template path outside the rootfs', async ({
  page,
}) => {
  await page.goto(url);
  await page
    .getByRole('navigation', { name: 'Views of local' })
    .getByRole('link', {
      name: 'Build image',
    })
    .click();
  const build = page.getByRole('region', { name: 'Build image' });
  await expect(build).toContainText('needs the desktop app');
  await build.getByRole('combobox', { name: 'Architecture' }).selectOption('aarch64');
  await expect(build.getByLabel('metadata.yaml')).toContainText('architecture: aarch64');
  await build.getByRole('button', { name: 'Add template' }).click();
  await build.getByRole('textbox', { name: 'Path in the instance' }).fill('../etc/hostname');
  await expect(build.getByRole('alert', { name: 'Problems' })).toContainText('..');
});
