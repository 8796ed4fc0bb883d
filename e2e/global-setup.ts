/**
 * One sandbox LXD with the fixture images and one web-mode Hangar on it for
 * the whole suite. Chromium and LXD are required: nothing here skips.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../scripts/sandbox/sandbox.js';
import { startWebMode } from './web-mode.js';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-'));
  const sandbox = await startSandbox({ dir });
  const web = await startWebMode({ LXD_DIR: sandbox.local.dir });
  process.env.HANGAR_E2E_URL = web.url;
  process.env.HANGAR_E2E_LXD_DIR = sandbox.local.dir;
  process.env.HANGAR_E2E_FIXTURES = JSON.stringify(sandbox.fixtures);
  return async () => {
    await web.stop();
    await sandbox.stop({ removeFiles: true });
  };
}
