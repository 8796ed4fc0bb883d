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

/** The second sandbox daemon, acting as a remote server. */
export function e2eRemote(): { dir: string; https: string } {
  const { HANGAR_E2E_REMOTE_DIR: dir, HANGAR_E2E_REMOTE_HTTPS: https } = process.env;
  if (dir === undefined || https === undefined) throw new Error('e2e global setup did not run');
  return { dir, https };
}

/** `lxc` run as the remote server's administrator. */
export async function lxcOnRemote(...args: string[]): Promise<string> {
  const { stdout } = await run('lxc', args, { env: { ...process.env, LXD_DIR: e2eRemote().dir } });
  return stdout;
}
