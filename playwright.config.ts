import { defineConfig } from '@playwright/test';

/** Web mode in Debian's Chromium; no browser download. */
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'e2e-output/results',
  globalSetup: './e2e/global-setup.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    },
    viewport: { width: 1400, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
});
