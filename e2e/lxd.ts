/** Test-side access to the e2e sandbox daemon, through the `lxc` CLI. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BuiltFixture } from '../scripts/sandbox/fixtures.js';

const run = promisify(execFile);

export function e2eEnv(): { url: string; lxdDir: string; fixtures: BuiltFixture[] } {
  const {
    HANGAR_E2E_URL: url,
    HANGAR_E2E_LXD_DIR: lxdDir,
    HANGAR_E2E_FIXTURES: fixtures,
  } = process.env;
  if (url === undefined || lxdDir === undefined || fixtures === undefined)
    throw new Error('e2e global setup did not run');
  return { url, lxdDir, fixtures: JSON.parse(fixtures) as BuiltFixture[] };
}

export async function lxc(...args: string[]): Promise<string> {
  const { stdout } = await run('lxc', args, { env: { ...process.env, LXD_DIR: e2eEnv().lxdDir } });
  return stdout;
}
