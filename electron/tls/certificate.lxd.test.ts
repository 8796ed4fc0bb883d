/**
 * LXD (Go's crypto/x509, stricter than OpenSSL about DER) takes the client
 * certificates Hangar makes, and still takes one made by the hand-written
 * encoder that came before @peculiar/x509.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { describe, expect, inject, it } from 'vitest';
import { certificateFingerprint, createSelfSignedCertificate } from './certificate.js';
import { scratchDirs } from '../../scripts/testing/scratch-dirs.js';

const scratch = scratchDirs();
const run = promisify(execFile);
const sandbox = inject('sandbox');

/** `lxc` on the second daemon, as its administrator. */
async function onServer(...args: string[]): Promise<string> {
  const { stdout } = await run('lxc', args, {
    env: { ...process.env, LXD_DIR: sandbox.remoteDir },
  });
  return stdout.trim();
}

/** What the daemon says about a client presenting this certificate: `trusted` or `untrusted`. */
async function authAs(certificate: string, key: string): Promise<string> {
  // The server's own certificate is not what this test is about.
  const agent = new Agent({ connect: { cert: certificate, key, rejectUnauthorized: false } });
  try {
    const response = await request(`https://${sandbox.remoteHttps}/1.0`, { dispatcher: agent });
    const body = (await response.body.json()) as { metadata: { auth: string } };
    return body.metadata.auth;
  } finally {
    await agent.close();
  }
}

async function trustedByLxd(certificate: string, key: string, name: string): Promise<void> {
  const fingerprint = certificateFingerprint(certificate);
  expect(await authAs(certificate, key)).toBe('untrusted');
  const file = join(await scratch('hangar-cert-lxd-'), `${name}.crt`);
  await writeFile(file, certificate);
  await onServer('config', 'trust', 'add', file, '--name', name);
  try {
    expect(await onServer('config', 'trust', 'list', '--format', 'csv')).toContain(
      fingerprint.slice(0, 12),
    );
    expect(await authAs(certificate, key)).toBe('trusted');
  } finally {
    await onServer('config', 'trust', 'remove', fingerprint);
  }
}

describe('client certificates and LXD', () => {
  it('LXD trusts a client certificate the new code makes', async () => {
    const made = await createSelfSignedCertificate({
      commonName: 'hangar-lxd@test',
      usage: 'client',
    });
    await trustedByLxd(made.certificate, made.key, 'hangar-new-cert');
  });

  it('LXD trusts a client certificate the old hand-written encoder made', async () => {
    const fixtures = join(import.meta.dirname, 'fixtures');
    await trustedByLxd(
      await readFile(join(fixtures, 'old-client.crt'), 'utf8'),
      await readFile(join(fixtures, 'old-client.key'), 'utf8'),
      'hangar-old-cert',
    );
  });
});
