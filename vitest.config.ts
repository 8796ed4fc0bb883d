/**
 * Two projects, both run by `npm test` and `npm run test:unit`:
 *
 * - `unit`: tests that need no LXD daemon (filter, formats, contract, tar parsing, YAML rules,
 *   loopback HTTPS servers, system tools such as xz or openssl). A developer runs them in
 *   seconds: `npm run test:unit -- --project unit`.
 * - `integration`: tests against the sandbox's LXD daemons (started once by the global setup),
 *   against the installed `lxc` (the conformance tests), and the fault tests, which wait out
 *   timeouts.
 *
 * A test file is put in `integration` by what it uses, so a new test lands in the right project
 * without a list to keep: it reads the sandbox (`inject('sandbox')`), starts a daemon, runs
 * `lxc` (`run('lxc', …)`), or is named `*.conformance.test.ts` (compared with lxc) or
 * `faults.test.ts` / `*.faults.test.ts` (servers that hang: slow by design). Every other test
 * file is a unit test; a unit test that needed the sandbox would fail there (inject gives
 * nothing), never pass unnoticed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

const TEST_ROOTS = ['shared', 'electron', 'scripts', 'renderer'];
/** `inject('sandbox')`, `startDaemon(…)`, `startSandbox(…)`, or a call such as `run('lxc', …)`. */
const USES_LXD = /\binject\(\s*'sandbox'\s*\)|\bstart(?:Daemon|Sandbox)\b|\(\s*['"]lxc['"]\s*,/;

function testFiles(): string[] {
  return TEST_ROOTS.flatMap((root) =>
    readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((path) => /\.test\.tsx?$/.test(path) && !path.split(/[\\/]/).includes('node_modules'))
      .map((path) => join(root, path).split('\\').join('/')),
  ).sort();
}

/** Compared with the installed `lxc`, or slow by design (fault tests wait out timeouts). */
const BY_NAME = /(^|[/.])(conformance|faults)\.test\.tsx?$/;

const integration = testFiles().filter(
  (path) => BY_NAME.test(path) || USES_LXD.test(readFileSync(path, 'utf8')),
);

export default defineConfig({
  test: {
    // Under CI=true a skipped test fails the run (scripts/vitest-no-skips.ts).
    reporters: ['default', './scripts/vitest-no-skips.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: TEST_ROOTS.map((root) => `${root}/**/*.test.{ts,tsx}`),
          exclude: ['**/node_modules/**', ...integration],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integration,
          globalSetup: ['./scripts/sandbox/vitest-global-setup.ts'],
        },
      },
    ],
  },
});
