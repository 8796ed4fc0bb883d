import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'shared/**/*.test.ts',
      'electron/**/*.test.ts',
      'scripts/**/*.test.ts',
      'renderer/**/*.test.ts',
    ],
    globalSetup: ['./scripts/sandbox/vitest-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
