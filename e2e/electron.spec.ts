/**
 * The Electron app itself. Runs only where Electron's binary is installed
 * (playwright.config.ts leaves this file out, and says so, elsewhere).
 */
import { expect, test } from '@playwright/test';
import { _electron } from 'playwright-core';
import { callNames } from '../shared/contract-names.js';
import { CONTENT_SECURITY_POLICY } from '../shared/csp.js';
import { e2eEnv } from './lxd.js';

/** What the preload exposes: the contract's namespaces, `subscribe` and `pathForFile`. */
const exposedKeys = [
  ...new Set(callNames.map((name) => name.split('.')[0] ?? '')),
  'pathForFile',
  'subscribe',
].sort();

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
      const hangar = page.hangar as Record<string, unknown>;
      return {
        hangar: Object.keys(hangar).sort(),
        calls: Object.entries(hangar)
          .flatMap(([namespace, value]) =>
            typeof value === 'object' && value !== null
              ? Object.keys(value).map((method) => `${namespace}.${method}`)
              : [],
          )
          .sort(),
        require: typeof page.require,
        process: typeof page.process,
      };
    });
    expect(exposed).toEqual({
      hangar: exposedKeys,
      calls: [...callNames].sort(),
      require: 'undefined',
      process: 'undefined',
    });
    // The strict CSP is in the page, and no window can be opened.
    const page = await window.evaluate(() => {
      const scope = globalThis as unknown as {
        document: {
          querySelector: (
            selector: string,
          ) => { getAttribute: (name: string) => string | null } | null;
        };
        open: (url: string) => unknown;
      };
      return {
        csp: scope.document
          .querySelector('meta[http-equiv="Content-Security-Policy"]')
          ?.getAttribute('content'),
        opened: scope.open('https://example.com/') === null,
      };
    });
    expect(page).toEqual({ csp: CONTENT_SECURITY_POLICY, opened: true });
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
