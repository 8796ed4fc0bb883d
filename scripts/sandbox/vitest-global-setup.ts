/**
 * Starts a fresh sandbox (two LXD daemons with the fixture images) for the
 * unit and integration tests. LXD is a dependency of the suite: when it
 * cannot start, the run fails with the reason rather than skipping.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { BuiltFixture } from './fixtures.js';
import { startSandbox } from './sandbox.js';

export interface SandboxInfo {
  localDir: string;
  remoteDir: string;
  remoteHttps: string;
  fixtures: BuiltFixture[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: SandboxInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-test-'));
  const sandbox = await startSandbox({ dir, withRemote: true });
  if (sandbox.remote === undefined) throw new Error('the sandbox started no remote daemon');
  project.provide('sandbox', {
    localDir: sandbox.local.dir,
    remoteDir: sandbox.remote.dir,
    remoteHttps: sandbox.remote.httpsAddress,
    fixtures: sandbox.fixtures,
  });
  return () => sandbox.stop({ removeFiles: true });
}
