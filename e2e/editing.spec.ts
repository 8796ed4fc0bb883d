/**
 * Editing images through the UI against the real sandbox daemons: the
 * Properties form and the YAML editor (checked with `lxc image show`),
 * invalid YAML and immutable fields refused, a change made with lxc
 * meanwhile caught as a conflict and reapplied (or, with no draft, shown
 * while the field being edited keeps the focus), aliases, bulk delete, and
 * "update available" then Refresh image for an image copied with
 * auto-update from the second daemon.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { createInstance, deleteProject } from '../scripts/sandbox/projects.js';
import { tar } from '../scripts/sandbox/tar.js';
import { e2eEnv, e2eRemote, lxc, lxcOnRemote } from './lxd.js';
import { startWebMode, type RunningWebMode } from './web-mode.js';

const { lxdDir } = e2eEnv();
const project = 'e2e-editing';
let dir: string;
let web: RunningWebMode;
/** Images this file put on the second daemon, which other specs expect as the sandbox made it. */
const onRemote: string[] = [];

/** A small unified image, unique to `id`, imported on a daemon with lxc; its fingerprint. */
async function importImage(
  on: (...args: string[]) => Promise<string>,
  id: string,
  aliases: string[],
  extra: string[] = [],
): Promise<string> {
  const file = join(dir, `${id}.tar.gz`);
  await writeFile(
    file,
    gzipSync(
      tar([
        {
          path: 'metadata.yaml',
          content: `architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: editing ${id}\n  os: Debian\n  version: "1.10"\n`,
        },
        { path: 'rootfs' },
        { path: 'rootfs/etc' },
        { path: 'rootfs/etc/hostname', content: `${id}\n` },
      ]),
    ),
  );
  const output = await on(
    'image',
    'import',
    file,
    ...aliases.flatMap((alias) => ['--alias', alias]),
    ...extra,
  );
  const fingerprint = /Image imported with fingerprint: ([0-9a-f]{64})/.exec(output)?.[1];
  if (fingerprint === undefined) throw new Error(`lxc image import said: ${output}`);
  return fingerprint;
}
const local = (...args: string[]) => lxc(...args, '--project', project);

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-editing-'));
  await lxc('project', 'create', project, '-c', 'features.profiles=false').catch(() => undefined);
  web = await startWebMode({
    LXD_DIR: lxdDir,
    HANGAR_DATA_DIR: join(dir, 'hangar-data'),
    LXD_CONF: join(dir, 'lxc-config'),
  });
});
test.afterAll(async () => {
  for (const fingerprint of onRemote)
    await lxcOnRemote('image', 'delete', fingerprint).catch(() => undefined);
  await web.stop();
  await deleteProject(lxdDir, project);
  await rm(dir, { recursive: true, force: true });
});

const grid = (page: Page) => page.getByRole('grid', { name: 'Images' });
const details = (page: Page) => page.getByRole('region', { name: 'Image details' });
const operations = (page: Page) => page.getByRole('region', { name: 'Operations' });

async function openProject(page: Page): Promise<void> {
  await page.goto(web.url);
  await page.goto(`${web.url}#${new URLSearchParams({ remote: 'local', project }).toString()}`);
  await expect(page.getByRole('combobox', { name: 'Project' })).toHaveValue(project);
}

async function selectImage(page: Page, alias: string): Promise<void> {
  await page.getByRole('searchbox', { name: 'Filter images' }).fill(alias);
  await grid(page).getByRole('gridcell', { name: alias, exact: true }).click();
  await expect(details(page)).toContainText(alias);
}

/**
 * Replaces the YAML editor's text as a user pasting it would (typing would
 * let the editor indent each new line).
 */
async function typeYaml(page: Page, text: string): Promise<void> {
  const editor = details(page).getByRole('region', { name: 'Image YAML' });
  await editor.getByRole('textbox').focus();
  await page.keyboard.press('ControlOrMeta+A');
  // Evaluated in the page (a string: this file is typed for Node, not the DOM).
  await page.evaluate(`(() => {
    const data = new DataTransfer();
    data.setData('text/plain', ${JSON.stringify(text)});
    document.activeElement.dispatchEvent(
      new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
    );
  })()`);
}

/** The index of the form row whose key is `key`. */
async function rowOf(keys: Locator, key: string): Promise<number> {
  const count = await keys.count();
  for (let index = 0; index < count; index++)
    if ((await keys.nth(index).inputValue()) === key) return index;
  throw new Error(`no property row ${key}`);
}

const show = async (fingerprint: string) => local('image', 'show', fingerprint);

test('edits properties in the form and in YAML, refuses bad YAML and immutable fields', async ({
  page,
}) => {
  const id = randomBytes(4).toString('hex');
  const fingerprint = await importImage(local, id, [`edit/${id}`]);
  await openProject(page);
  await selectImage(page, `edit/${id}`);

  // The form: a changed value, a new property with a space in its key, public.
  await details(page).getByRole('tab', { name: 'Properties' }).click();
  const keys = details(page).getByRole('textbox', { name: 'Property key' });
  const values = details(page).getByRole('textbox', { name: 'Property value' });
  await expect(keys).toHaveCount(3);
  const osRow = await rowOf(keys, 'os');
  await values.nth(osRow).fill('Debian GNU/Linux');
  await details(page).getByRole('button', { name: 'Add property' }).click();
  await expect(keys.last()).toHaveAccessibleDescription('A property key cannot be empty.');
  await keys.last().fill('user.my note');
  await values.last().fill('日本語 with  two spaces');
  // LXD accepts the space; the form says what it means for lxc.
  await expect(keys.last()).toHaveAccessibleDescription(/lxc commands need it quoted/);
  await details(page).getByRole('checkbox', { name: 'Public' }).check();
  await expect(details(page).getByLabel('Equivalent lxc command')).toHaveText(
    `lxc image edit local:${fingerprint} --project ${project} < image.yaml`,
  );
  await details(page).getByRole('button', { name: 'Save' }).click();
  await expect(details(page).getByRole('status').filter({ hasText: 'No changes' })).toBeVisible();
  let shown = await show(fingerprint);
  expect(shown).toContain('os: Debian GNU/Linux');
  expect(shown).toContain('user.my note: 日本語 with  two spaces');
  expect(shown).toContain('version: "1.10"');
  expect(shown).toContain('public: true');

  // The same draft in YAML: the form's change shows there, and an edit there shows in the form.
  await details(page).getByRole('tab', { name: 'YAML' }).click();
  const editor = details(page).getByRole('region', { name: 'Image YAML' });
  await expect(editor).toContainText('user.my note');
  // Read-only facts are above the editor, not in it.
  await expect(details(page).getByRole('tabpanel')).toContainText(fingerprint);
  await typeYaml(
    page,
    [
      'auto_update: false',
      'properties:',
      `  description: edited in YAML ${id}`,
      '  os: Debian',
      '  version: 1.10',
      'public: false',
      'expires_at: 2031-01-02T03:04:05Z',
      'profiles:',
      '- default',
      '',
    ].join('\n'),
  );
  await details(page).getByRole('tab', { name: 'Properties' }).click();
  await expect(keys).toHaveCount(3);
  await expect(values.nth(await rowOf(keys, 'description'))).toHaveValue(`edited in YAML ${id}`);
  await details(page).getByRole('tab', { name: 'YAML' }).click();

  // Invalid YAML cannot be saved, and the message says where.
  await typeYaml(page, 'auto_update: false\nproperties:\n  os: [unclosed\npublic: false\n');
  await expect(details(page).getByRole('alert')).toContainText('Invalid YAML');
  await expect(details(page).getByRole('alert')).toContainText('Line ');
  await expect(details(page).getByRole('button', { name: 'Save' })).toBeDisabled();

  // An immutable field is refused by name.
  await typeYaml(
    page,
    `auto_update: false\nproperties:\n  description: edited in YAML ${id}\n  os: Debian\n  version: 1.10\npublic: false\nexpires_at: 2031-01-02T03:04:05Z\nprofiles:\n- default\narchitecture: aarch64\n`,
  );
  await expect(details(page).getByRole('alert')).toContainText('"architecture" cannot be changed');
  await expect(details(page).getByRole('button', { name: 'Save' })).toBeDisabled();

  // Without it, the draft saves; "1.10" stays text.
  await typeYaml(
    page,
    `auto_update: false\nproperties:\n  description: edited in YAML ${id}\n  os: Debian\n  version: 1.10\npublic: false\nexpires_at: 2031-01-02T03:04:05Z\nprofiles:\n- default\n`,
  );
  await details(page).getByRole('button', { name: 'Save' }).click();
  await expect(details(page).getByRole('status').filter({ hasText: 'No changes' })).toBeVisible();
  shown = await show(fingerprint);
  expect(shown).toContain(`description: edited in YAML ${id}`);
  expect(shown).toContain('version: "1.10"');
  expect(shown).toContain('expires_at: 2031-01-02T03:04:05Z');
  expect(shown).not.toContain('user.my note');
  await page.screenshot({ path: 'e2e-output/editing-yaml.png' });
});

test('a change made with lxc meanwhile is a conflict; the draft is reapplied on it', async ({
  page,
}) => {
  const id = randomBytes(4).toString('hex');
  const fingerprint = await importImage(local, id, [`conflict/${id}`]);
  await importImage(local, `${id}other`, [`conflict/${id}/other`]);
  await openProject(page);
  await selectImage(page, `conflict/${id}`);
  await details(page).getByRole('tab', { name: 'Properties' }).click();
  const keys = details(page).getByRole('textbox', { name: 'Property key' });
  const values = details(page).getByRole('textbox', { name: 'Property value' });
  await values.nth(await rowOf(keys, 'os')).fill('Mine');

  // Someone else changes the image with lxc between open and save.
  await local('image', 'set-property', fingerprint, 'release', 'theirs');

  await details(page).getByRole('button', { name: 'Save' }).click();
  const conflict = page.getByRole('dialog', { name: 'Conflict' });
  await expect(conflict.getByRole('region', { name: 'Server version' })).toContainText(
    'release: theirs',
  );
  await expect(conflict.getByRole('region', { name: 'Your draft' })).toContainText('os: Mine');
  await conflict.getByRole('button', { name: 'Reapply my changes' }).click();
  await expect(conflict).toBeHidden();
  // The draft is still there, now on the new version: both changes are kept.
  await expect(values.nth(await rowOf(keys, 'os'))).toHaveValue('Mine');
  await details(page).getByRole('button', { name: 'Save' }).click();
  await expect(details(page).getByRole('status').filter({ hasText: 'No changes' })).toBeVisible();
  const shown = await show(fingerprint);
  expect(shown).toContain('os: Mine');
  expect(shown).toContain('release: theirs');

  // Leaving an image with unsaved changes asks first.
  await values.nth(await rowOf(keys, 'os')).fill('Unsaved');
  await expect(
    details(page).getByRole('status').filter({ hasText: 'Unsaved changes' }),
  ).toBeVisible();
  await page.getByRole('searchbox', { name: 'Filter images' }).fill(`conflict/${id}`);
  await grid(page)
    .getByRole('gridcell', { name: `conflict/${id}/other`, exact: true })
    .click();
  const leave = page.getByRole('dialog', { name: 'Unsaved changes' });
  await leave.getByRole('button', { name: 'Keep editing' }).click();
  await expect(values.nth(await rowOf(keys, 'os'))).toHaveValue('Unsaved');
  await details(page).getByRole('button', { name: 'Revert' }).click();
  await expect(values.nth(await rowOf(keys, 'os'))).toHaveValue('Mine');
});

test('a change made with lxc while a field has the focus updates the form and leaves the field to the user', async ({
  page,
}) => {
  const id = randomBytes(4).toString('hex');
  const fingerprint = await importImage(local, id, [`focus/${id}`]);
  await openProject(page);
  await selectImage(page, `focus/${id}`);
  await details(page).getByRole('tab', { name: 'Properties' }).click();
  const keys = details(page).getByRole('textbox', { name: 'Property key' });
  const values = details(page).getByRole('textbox', { name: 'Property value' });
  const os = values.nth(await rowOf(keys, 'os'));
  await os.click();
  await page.keyboard.press('End');

  // Someone else adds a property with lxc: the form shows it (the draft was clean)...
  await expect(keys).toHaveCount(3);
  await local('image', 'set-property', fingerprint, 'release', 'theirs');
  await expect(keys).toHaveCount(4);
  await expect(values.nth(await rowOf(keys, 'release'))).toHaveValue('theirs');
  // ...and the field the user was in is still the one that takes the keys.
  await expect(os).toBeFocused();
  await page.keyboard.type(' 13');
  await expect(os).toHaveValue('Debian 13');
  await expect(
    details(page).getByRole('status').filter({ hasText: 'Unsaved changes' }),
  ).toBeVisible();
});

test("changes made with lxc reach the window's own copy: a filter typed after them matches the list as it is now", async ({
  page,
}) => {
  const id = randomBytes(4).toString('hex');
  const first = await importImage(local, `${id}a`, [`live/${id}/a`]);
  // Every call the page makes, the newest list version announced, and the newest copy received.
  const calls: string[] = [];
  const versions = { announced: 0, copied: 0 };
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => {
      const frame = JSON.parse(String(payload)) as { call?: string };
      if (frame.call !== undefined) calls.push(frame.call);
    });
    socket.on('framereceived', ({ payload }) => {
      const message = JSON.parse(String(payload)) as {
        event?: string;
        payload?: { project?: string; version?: number };
        envelope?: { value?: { strings?: unknown; version?: number } };
      };
      if (message.event === 'images.listChanged' && message.payload?.project === project)
        versions.announced = Math.max(versions.announced, message.payload.version ?? 0);
      const value = message.envelope?.value;
      if (value?.strings !== undefined) versions.copied = value.version ?? 0;
    });
  });
  // The copy's chunks come over HTTP, beside the socket (POST /api/call).
  page.on('request', (request) => {
    if (new URL(request.url()).pathname !== '/api/call') return;
    const body = JSON.parse(request.postData() ?? '{}') as { call?: string };
    if (body.call !== undefined) calls.push(body.call);
  });
  page.on('response', (response) => {
    if (new URL(response.url()).pathname !== '/api/call') return;
    void response.json().then(
      (envelope: { value?: { strings?: unknown; version?: number } }) => {
        if (envelope.value?.strings !== undefined) versions.copied = envelope.value.version ?? 0;
      },
      () => undefined,
    );
  });
  await openProject(page);
  const filter = page.getByRole('searchbox', { name: 'Filter images' });
  const status = page.getByRole('status').first();
  await filter.fill(`live/${id}`);
  await expect(status).toHaveText(/^1 of \d+ images$/);
  await expect.poll(() => versions.copied).toBeGreaterThan(0);
  const copied = versions.copied;

  // Elsewhere: a property changes on one image and another image comes.
  await local('image', 'set-property', first, 'os', 'Alpine');
  await importImage(local, `${id}b`, [`live/${id}/b`]);
  await expect(status).toHaveText(/^2 of \d+ images$/);
  // The changed list's copy comes; filters are then worked out on it, without a call.
  await expect
    .poll(() => versions.copied > copied && versions.copied === versions.announced)
    .toBe(true);
  const asked = calls.length;
  await filter.fill(`live/${id} os=Alpine`);
  await expect(status).toHaveText(/^1 of \d+ images$/);
  await expect(
    grid(page).getByRole('gridcell', { name: `live/${id}/a`, exact: true }),
  ).toBeVisible();
  await filter.fill(`live/${id} os=Debian`);
  await expect(status).toHaveText(/^1 of \d+ images$/);
  await expect(
    grid(page).getByRole('gridcell', { name: `live/${id}/b`, exact: true }),
  ).toBeVisible();
  const rowCalls = ['images.load', 'images.view', 'images.select', 'images.rows'];
  expect(calls.slice(asked).filter((call) => rowCalls.includes(call))).toEqual([]);
});

test('creates, renames, moves and deletes aliases', async ({ page }) => {
  const id = randomBytes(4).toString('hex');
  const first = await importImage(local, `${id}a`, [`alias/${id}/one`]);
  const second = await importImage(local, `${id}b`, [`alias/${id}/two`]);
  await openProject(page);
  await selectImage(page, `alias/${id}/one`);

  await details(page).getByRole('button', { name: 'Add alias' }).click();
  let dialog = page.getByRole('dialog', { name: 'Add alias' });
  await dialog.getByRole('textbox', { name: 'Alias name' }).fill(`alias/${id}/two`);
  await dialog.getByRole('button', { name: 'Add' }).click();
  // A name that is taken: a clear error, nothing changed, the draft stays.
  await expect(dialog.getByRole('alert')).toContainText(`alias/${id}/two`);
  expect(await local('image', 'alias', 'list', '--format', 'csv')).toContain(
    `alias/${id}/two,${second.slice(0, 12)}`,
  );
  await dialog.getByRole('textbox', { name: 'Alias name' }).fill(`alias/${id}/new`);
  await dialog.getByRole('textbox', { name: 'Description' }).fill('made in Hangar');
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(dialog).toBeHidden();
  await expect(details(page)).toContainText(`alias/${id}/new`);
  let aliases = await local('image', 'alias', 'list', '--format', 'csv');
  expect(aliases).toContain(`alias/${id}/new,${first.slice(0, 12)},`);
  expect(aliases).toContain('made in Hangar');

  await details(page)
    .getByRole('button', { name: `Rename alias alias/${id}/new` })
    .click();
  dialog = page.getByRole('dialog', { name: `Rename alias alias/${id}/new` });
  await dialog.getByRole('textbox', { name: 'New name' }).fill(`alias/${id}/renamed`);
  await dialog.getByRole('button', { name: 'Rename' }).click();
  await expect(details(page)).toContainText(`alias/${id}/renamed`);

  await details(page)
    .getByRole('button', { name: `Move alias alias/${id}/renamed` })
    .click();
  dialog = page.getByRole('dialog', { name: `Move alias alias/${id}/renamed` });
  await dialog.getByRole('combobox', { name: 'Move to image' }).selectOption(second);
  await expect(dialog.getByLabel('Equivalent lxc command')).toContainText('alias delete');
  await dialog.getByRole('button', { name: 'Move' }).click();
  await expect(dialog).toBeHidden();
  await expect(details(page)).not.toContainText(`alias/${id}/renamed`);
  aliases = await local('image', 'alias', 'list', '--format', 'csv');
  expect(aliases).toContain(`alias/${id}/renamed,${second.slice(0, 12)},`);

  await page.getByRole('searchbox', { name: 'Filter images' }).fill(`alias/${id}/two`);
  await grid(page)
    .getByRole('gridcell', { name: `alias/${id}/two (1 more)`, exact: true })
    .click();
  await details(page)
    .getByRole('button', { name: `Delete alias alias/${id}/renamed` })
    .click();
  await page
    .getByRole('dialog', { name: `Delete alias alias/${id}/renamed` })
    .getByRole('button', { name: 'Delete' })
    .click();
  await expect(details(page)).not.toContainText(`alias/${id}/renamed`);
  expect(await local('image', 'alias', 'list', '--format', 'csv')).not.toContain(
    `alias/${id}/renamed`,
  );
});

test('deletes several images at once, naming their aliases and the instances made from them', async ({
  page,
}) => {
  const id = randomBytes(4).toString('hex');
  const first = await importImage(local, `${id}a`, [`bulk/${id}/one`, `bulk/${id}/extra`]);
  const second = await importImage(local, `${id}b`, [`bulk/${id}/two`]);
  // `lxc init` would wait for a config on standard input: the same request through lxc query.
  await createInstance(lxdDir, project, `from-${id}`, first);
  await openProject(page);
  await page.getByRole('searchbox', { name: 'Filter images' }).fill(`bulk/${id}`);
  await grid(page)
    .getByRole('gridcell', { name: `bulk/${id}/one (1 more)`, exact: true })
    .click();
  await grid(page)
    .getByRole('gridcell', { name: `bulk/${id}/two`, exact: true })
    .click({ modifiers: ['ControlOrMeta'] });
  await expect(details(page)).toContainText('2 images selected');
  await grid(page).press('Delete');
  const dialog = page.getByRole('dialog', { name: 'Delete 2 images' });
  await expect(dialog.getByRole('list', { name: 'Aliases deleted with them' })).toContainText(
    `bulk/${id}/extra`,
  );
  await expect(dialog.getByRole('list', { name: 'Instances created from them' })).toContainText(
    `from-${id}`,
  );
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(operations(page).getByRole('listitem', { name: /^Delete 2 images/ })).toContainText(
    'Done',
    { timeout: 30_000 },
  );
  await expect(page.getByRole('status').filter({ hasText: /^0 of / })).toBeVisible();
  const listed = await local('image', 'list', '-c', 'F', '--format', 'csv');
  expect(listed).not.toContain(first);
  expect(listed).not.toContain(second);
  // The instance is still there.
  expect(await local('list', '-c', 'n', '--format', 'csv')).toContain(`from-${id}`);
});

test('shows "update available" for an auto-update copy whose source moved on, and refreshes it', async ({
  page,
}) => {
  const id = randomBytes(4).toString('hex');
  const alias = `upd/${id}`;
  const older = await importImage(lxcOnRemote, `${id}old`, [alias], ['--public']);
  onRemote.push(older);
  const certificate = (
    JSON.parse(await lxcOnRemote('query', '/1.0')) as { environment: { certificate: string } }
  ).environment.certificate;
  // As `lxc image copy second:upd/… local: --auto-update` asks the local daemon.
  await lxc(
    'query',
    '--wait',
    '-X',
    'POST',
    `/1.0/images?project=${project}`,
    '--data',
    JSON.stringify({
      auto_update: true,
      source: {
        type: 'image',
        mode: 'pull',
        server: `https://${e2eRemote().https}`,
        protocol: 'lxd',
        certificate,
        alias,
      },
    }),
  );
  await local('image', 'alias', 'create', `copy/${id}`, older);

  await openProject(page);
  await selectImage(page, `copy/${id}`);
  await expect(grid(page).getByRole('row', { name: new RegExp(`copy/${id}`) })).not.toContainText(
    'update available',
  );

  // The source moves its alias to a newer image.
  const newer = await importImage(lxcOnRemote, `${id}new`, [], ['--public']);
  onRemote.push(newer);
  await lxcOnRemote('image', 'alias', 'delete', alias);
  await lxcOnRemote('image', 'alias', 'create', alias, newer);

  await page.getByRole('button', { name: 'Refresh', exact: true }).click();
  const row = grid(page).getByRole('row', { name: new RegExp(`copy/${id}`) });
  await expect(row).toContainText('update available', { timeout: 20_000 });
  await expect(details(page)).toContainText('update available');
  await details(page).getByRole('button', { name: 'Refresh image' }).click();
  await expect(
    operations(page)
      .getByRole('listitem', { name: /^Refresh / })
      .first(),
  ).toContainText('Done', { timeout: 30_000 });
  await expect
    .poll(async () => local('image', 'list', '-c', 'F', '--format', 'csv'), { timeout: 20_000 })
    .toContain(newer);
  await expect(grid(page).getByRole('row', { name: new RegExp(`copy/${id}`) })).not.toContainText(
    'update available',
  );
  await page.screenshot({ path: 'e2e-output/editing-refreshed.png' });
});
