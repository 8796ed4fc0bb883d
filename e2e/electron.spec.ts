/**
 * The Electron app itself. Runs only where Electron's binary is installed
 * (playwright.config.ts leaves this file out, and says so, elsewhere).
 */
import { expect, test } from '@playwright/test';
import { _electron } from 'playwright-core';
import { e2eEnv } from './lxd.js';

test('the Electron window shows the images and exposes only the contract to the page', async () => {
  const app = await _electron.launch({
    args: ['dist/electron/main.cjs'],
    env: { ...process.env, LXD_DIR: e2eEnv().lxdDir },
  });
  try {
    const window = await app.firstWindow();
    await expect(window.getByRole('grid', { name: 'Images' })).toBeVisible();
    await expect(window.getByRole('status')).toHaveText(/^\d+ of \d+ images$/);
    const exposed = await window.evaluate(() => {
      const page = globalThis as unknown as Record<string, unknown>;
      return {
        hangar: Object.keys(page.hangar as object).sort(),
        require: typeof page.require,
        process: typeof page.process,
      };
    });
    expect(exposed).toEqual({
      hangar: ['images', 'projects', 'remotes', 'subscribe'],
      require: 'undefined',
      process: 'undefined',
    });
    // Navigation away from the app is blocked.
    await window.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href =
        'https://example.com/';
    });
    await expect(window.getByRole('grid', { name: 'Images' })).toBeVisible();
  } finally {
    await app.close();
  }
});
