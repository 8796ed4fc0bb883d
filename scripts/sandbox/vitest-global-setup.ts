/**
 * Starts a fresh sandbox (two LXD daemons with the fixture images) for the
 * unit and integration tests. LXD is a dependency of the suite: when it
 * cannot start, the run fails with the reason rather than skipping.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createSelfSignedCertificate } from '../../electron/tls/certificate.js';
import type { BuiltFixture } from './fixtures.js';
import { startSandbox } from './sandbox.js';

export interface SandboxInfo {
  localDir: string;
  remoteDir: string;
  remoteHttps: string;
  fixtures: BuiltFixture[];
  /**
   * A loopback HTTPS server identity the daemons trust (their SSL_CERT_FILE):
   * a simplestreams server started with it can be pulled from by LXD.
   */
  trustedServer: { certificate: string; key: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: SandboxInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-test-'));
  const trustedServer = await createSelfSignedCertificate({
    commonName: '127.0.0.1',
    usage: 'server',
    hosts: ['127.0.0.1'],
  });
  await writeFile(join(dir, 'trusted-server.pem'), trustedServer.certificate);
  const sandbox = await startSandbox({
    dir,
    withRemote: true,
    daemonEnv: { SSL_CERT_FILE: join(dir, 'trusted-server.pem') },
  });
  if (sandbox.remote === undefined) throw new Error('the sandbox started no remote daemon');
  project.provide('sandbox', {
    localDir: sandbox.local.dir,
    remoteDir: sandbox.remote.dir,
    remoteHttps: sandbox.remote.httpsAddress,
    fixtures: sandbox.fixtures,
    trustedServer: { certificate: trustedServer.certificate, key: trustedServer.key },
  });
  return () => sandbox.stop({ removeFiles: true });
}
