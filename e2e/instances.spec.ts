/**
 * The Instances view against the real sandbox daemon: a project's instance
 * with its base image (a link that selects the image in the images view)
 * and its snapshot, then Publish… of the snapshot with an alias: the
 * operation ends Done and the image appears with the alias. Instances
 * cannot start here, so the instance stays stopped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { createInstance, deleteProject } from '../scripts/sandbox/projects.js';
import { e2eEnv, lxc } from './lxd.js';
import { startWebMode, type RunningWebMode } from './web-mode.js';

const { lxdDir } = e2eEnv();
const project = 'e2e-instances';
let dir: string;
let web: RunningWebMode;
let base: string;
const local = (...args: string[]) => lxc(...args, '--project', project);

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-instances-'));
  await deleteProject(lxdDir, project).catch(() => undefined);
  await lxc('project', 'create', project, '-c', 'features.profiles=false');
  await lxc('image', 'copy', 'local:fixture/unified', 'local:', '--target-project', project);
  base = (await local('image', 'list', '-c', 'F', '--format', 'csv')).trim();
  // As `lxc init` does, without its wait for a config on stdin.
  await createInstance(lxdDir, project, 'web1', base);
  await local('snapshot', 'web1', 'snap0');
  web = await startWebMode({
    LXD_DIR: lxdDir,
    HANGAR_DATA_DIR: join(dir, 'hangar-data'),
    LXD_CONF: join(dir, 'lxc-config'),
  });
});
test.afterAll(async () => {
  await web.stop();
  await deleteProject(lxdDir, project);
  await rm(dir, { recursive: true, force: true });
});

const instances = (page: Page) => page.getByRole('grid', { name: 'Instances' });
const images = (page: Page) => page.getByRole('grid', { name: 'Images' });
const views = (page: Page) => page.getByRole('navigation', { name: 'Views of local' });
const operations = (page: Page) => page.getByRole('region', { name: 'Operations' });

async function openInstances(page: Page): Promise<void> {
  await page.goto(web.url);
  await page.goto(`${web.url}#${new URLSearchParams({ remote: 'local', project }).toString()}`);
  await expect(page.getByRole('combobox', { name: 'Project' })).toHaveValue(project);
  await views(page).getByRole('link', { name: 'Instances' }).click();
  await expect(page).toHaveURL(/[#&]view=instances(&|$)/);
  await expect(views(page).getByRole('link', { name: 'Instances' })).toHaveAttribute(
    'aria-current',
    'page',
  );
}

test('lists the instances of a project with their base image, and links to the image', async ({
  page,
}) => {
  await openInstances(page);
  for (const name of ['NAME', 'TYPE', 'STATUS', 'BASE IMAGE', 'SNAPSHOTS', 'CREATED'])
    await expect(instances(page).getByRole('columnheader', { name })).toBeVisible();
  const row = instances(page).getByRole('row').filter({ hasText: 'web1' });
  await expect(row).toContainText('CONTAINER');
  await expect(row).toContainText('STOPPED');
  await expect(row).toContainText('1: snap0');
  await expect(page.getByRole('status').filter({ hasText: 'instances' })).toHaveText(
    '1 of 1 instances',
  );
  // The filter: a part of the name, key=value on status or config.
  const filter = page.getByRole('searchbox', { name: 'Filter instances' });
  await filter.fill('status=running');
  await expect(page.getByRole('status').filter({ hasText: 'instances' })).toHaveText(
    '0 of 1 instances',
  );
  await filter.fill('web image.os=debian');
  await expect(row).toBeVisible();
  await filter.fill('');

  // The view is in the URL: a reload keeps it.
  await page.reload();
  await expect(instances(page).getByRole('row').filter({ hasText: 'web1' })).toBeVisible();

  await instances(page)
    .getByRole('link', { name: base.slice(0, 12) })
    .click();
  await expect(images(page)).toBeVisible();
  await expect(page).not.toHaveURL(/view=instances/);
  const selected = images(page).getByRole('row', { selected: true });
  await expect(selected).toContainText(base.slice(0, 12));
  await expect(page.getByRole('region', { name: 'Image details' })).toContainText(base);

  // Delete lists the instances created from the image: each leads back to the Instances view.
  await images(page).press('Delete');
  const deleting = page.getByRole('dialog', { name: 'Delete image' });
  await deleting
    .getByRole('list', { name: 'Instances created from them' })
    .getByRole('link', { name: 'web1' })
    .click();
  await expect(deleting).toBeHidden();
  await expect(page).toHaveURL(/[#&]view=instances(&|$)/);
  await expect(instances(page).getByRole('row', { selected: true })).toContainText('web1');
  await expect(page.getByRole('region', { name: 'Instance details' })).toContainText('web1');
});

test('publishes a snapshot with an alias; the image appears with it', async ({ page }) => {
  await openInstances(page);
  await instances(page).getByRole('gridcell', { name: 'web1', exact: true }).click();
  const details = page.getByRole('region', { name: 'Instance details' });
  await details
    .getByRole('listitem', { name: 'snap0' })
    .getByRole('button', { name: 'Publish…' })
    .click();
  const dialog = page.getByRole('dialog', { name: 'Publish image' });
  // A snapshot is published as it is: no choice about stopping the instance.
  await expect(dialog.getByRole('checkbox', { name: /Stop web1/ })).toHaveCount(0);
  await dialog.getByRole('textbox', { name: 'Aliases' }).fill('e2e/published');
  await dialog.getByRole('textbox', { name: 'Properties' }).fill('os=Published');
  await dialog.getByRole('combobox', { name: 'Compression' }).selectOption('xz');
  await expect(dialog.getByLabel('Equivalent lxc command')).toHaveText(
    `lxc publish local:web1/snap0 local: --alias e2e/published --compression xz --project ${project} os=Published`,
  );
  await page.screenshot({ path: 'e2e-output/publish-dialog.png' });
  await dialog.getByRole('button', { name: 'Publish' }).click();
  await expect(dialog).toBeHidden();
  const item = operations(page).getByRole('listitem', { name: /^Publish local:web1\/snap0/ });
  await expect(item).toContainText(/Done|Failed/, { timeout: 30_000 });
  await expect(item).toContainText('Done');

  await views(page).getByRole('link', { name: 'Images' }).click();
  await page.getByRole('searchbox', { name: 'Filter images' }).fill('e2e/published');
  await expect(
    images(page).getByRole('gridcell', { name: 'e2e/published', exact: true }),
  ).toBeVisible();
  const published = JSON.parse(
    await lxc('query', `/1.0/images/aliases/e2e%2Fpublished?project=${project}`),
  ) as {
    target: string;
  };
  const info = await local('image', 'info', published.target);
  expect(info).toMatch(/^ {4}os: Published$/m);
  await page.screenshot({ path: 'e2e-output/instances.png' });
});
