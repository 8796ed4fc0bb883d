import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startDaemon, type SandboxDaemon } from '../scripts/sandbox/daemon.js';
import { startWebMode, type RunningWebMode } from './web-mode.js';

test('with no LXD, says which socket it tried and how to fix it, then recovers by itself', async ({
  page,
}) => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-down-'));
  let web: RunningWebMode | undefined;
  let daemon: SandboxDaemon | undefined;
  try {
    web = await startWebMode({
      LXD_DIR: dir,
      HANGAR_DATA_DIR: join(dir, 'hangar-data'),
      LXD_CONF: join(dir, 'lxc-config'),
    });
    await page.goto(web.url);
    await expect(page.getByRole('heading', { name: 'Cannot reach LXD' })).toBeVisible();
    await expect(page.getByRole('alert')).toHaveText(
      `No LXD socket found (looked at ${join(dir, 'unix.socket')}).`,
    );
    await expect(page.getByText('Install LXD')).toBeVisible();
    await page.screenshot({ path: 'e2e-output/unreachable.png' });

    daemon = await startDaemon(dir);
    await expect(page.getByRole('grid', { name: 'Images' })).toBeVisible({ timeout: 15_000 });
    await expect(page.getByRole('status')).toHaveText('0 of 0 images');

    // The daemon crashes mid-session: the screen comes back, never a blank window.
    await daemon.kill();
    await expect(page.getByRole('heading', { name: 'Cannot reach LXD' })).toBeVisible({
      timeout: 10_000,
    });
  } finally {
    await web?.stop();
    await daemon?.stop({ removeFiles: true });
    await rm(dir, { recursive: true, force: true });
  }
});
