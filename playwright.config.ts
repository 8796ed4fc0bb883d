import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_LAUNCH_OPTIONS } from './e2e/chromium.js';

/** Electron's binary path when its install script could download it. */
function electronInstalled(): boolean {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path);
  } catch {
    return false;
  }
}

const withElectron = electronInstalled();
// Workers load this file too; the runner alone says it.
if (!withElectron && process.env.TEST_WORKER_INDEX === undefined) {
  console.log('Electron binary not installed here: e2e/electron.spec.ts is not run (web mode is).');
}

/** Web mode in Debian's Chromium; no browser download. */
export default defineConfig({
  testDir: 'e2e',
  testIgnore: withElectron ? [] : ['**/electron.spec.ts'],
  outputDir: 'e2e-output/results',
  globalSetup: './e2e/global-setup.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: CHROMIUM_LAUNCH_OPTIONS,
    viewport: { width: 1400, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
});
