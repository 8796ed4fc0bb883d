/**
 * The sandbox every test, benchmark and a fresh `npm start` uses: a private
 * LXD daemon loaded with the fixture images, and optionally a second daemon
 * acting as a remote image server.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type SandboxDaemon } from './daemon.js';
import { buildFixtures, loadFixtures, type BuiltFixture } from './fixtures.js';

/** Where `npm start` and `npm run sandbox` keep their daemon. */
export const DEFAULT_SANDBOX_DIR = join(tmpdir(), 'hangar-sandbox');

export interface Sandbox {
  local: SandboxDaemon;
  remote: SandboxDaemon | undefined;
  fixtures: BuiltFixture[];
  /** Stops the daemons; `removeFiles` also deletes the sandbox directory. */
  stop: (options?: { removeFiles?: boolean }) => Promise<void>;
}

export async function startSandbox(options: {
  dir: string;
  withRemote?: boolean;
  /** Added to the daemons' environment (see startDaemon). */
  daemonEnv?: NodeJS.ProcessEnv;
}): Promise<Sandbox> {
  const fixtures = await buildFixtures(join(options.dir, 'fixtures'));
  const [local, remote] = await Promise.all([
    startDaemon(join(options.dir, 'local'), options.daemonEnv),
    options.withRemote === true
      ? startDaemon(join(options.dir, 'remote'), options.daemonEnv)
      : Promise.resolve(undefined),
  ]);
  await Promise.all([
    loadFixtures(local, fixtures),
    remote === undefined ? undefined : loadFixtures(remote, fixtures),
  ]);
  return {
    local,
    remote,
    fixtures,
    stop: async ({ removeFiles = false } = {}) => {
      await Promise.all([local.stop({ removeFiles }), remote?.stop({ removeFiles })]);
      if (removeFiles) await rm(options.dir, { recursive: true, force: true });
    },
  };
}
