/**
 * Two sandbox LXD daemons with the fixture images (the second acts as a
 * remote) and one web-mode Hangar on the first for the whole suite. Chromium and LXD are required: nothing here skips.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../scripts/sandbox/sandbox.js';
import { startWebMode } from './web-mode.js';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-'));
  const sandbox = await startSandbox({ dir, withRemote: true });
  if (sandbox.remote === undefined) throw new Error('the sandbox started no remote daemon');
  const web = await startWebMode({
    LXD_DIR: sandbox.local.dir,
    HANGAR_DATA_DIR: join(dir, 'hangar-data'),
    // An lxc config of the machine's own would add a first-run import offer to every page.
    LXD_CONF: join(dir, 'lxc-config'),
  });
  process.env.HANGAR_E2E_URL = web.url;
  process.env.HANGAR_E2E_LXD_DIR = sandbox.local.dir;
  process.env.HANGAR_E2E_FIXTURES = JSON.stringify(sandbox.fixtures);
  process.env.HANGAR_E2E_REMOTE_DIR = sandbox.remote.dir;
  process.env.HANGAR_E2E_REMOTE_HTTPS = sandbox.remote.httpsAddress;
  return async () => {
    await web.stop();
    await sandbox.stop({ removeFiles: true });
  };
}
