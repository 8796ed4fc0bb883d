import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { certificateFingerprint, createSelfSignedCertificate } from './certificate.js';

describe('createSelfSignedCertificate', () => {
  it('makes an ECDSA P-384 client certificate that openssl reads like lxc’s own', () => {
    const made = createSelfSignedCertificate({ commonName: 'hangar@test', usage: 'client' });
    const cert = new X509Certificate(made.certificate);
    expect(cert.subject).toContain('CN=hangar@test');
    expect(cert.checkPrivateKey(createPrivateKey(made.key))).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 9 * 365 * 86_400_000);
    expect(made.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(made.fingerprint).toBe(certificateFingerprint(cert.raw));

    const dir = mkdtempSync(join(tmpdir(), 'hangar-cert-'));
    writeFileSync(join(dir, 'c.crt'), made.certificate);
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'c.crt'), '-noout', '-text'], {
      encoding: 'utf8',
    });
    expect(text).toContain('TLS Web Client Authentication');
    expect(text).toContain('ecdsa-with-SHA384');
    const sha256 = execFileSync(
      'openssl',
      ['x509', '-in', join(dir, 'c.crt'), '-noout', '-fingerprint', '-sha256'],
      { encoding: 'utf8' },
    );
    expect(sha256.split('=')[1]?.trim().replaceAll(':', '').toLowerCase()).toBe(made.fingerprint);
  });

  it('makes a server certificate a TLS client accepts for 127.0.0.1 when it is the trusted CA', async () => {
    const made = createSelfSignedCertificate({
      commonName: 'loopback',
      usage: 'server',
      hosts: ['127.0.0.1', 'localhost'],
    });
    const server = createServer({ cert: made.certificate, key: made.key }, (_req, res) =>
      res.end('ok'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const trusted = new Agent({ connect: { ca: made.certificate } });
      const response = await request(`https://127.0.0.1:${port}/`, { dispatcher: trusted });
      expect(await response.body.text()).toBe('ok');
      await trusted.close();
      const untrusted = new Agent();
      await expect(
        request(`https://127.0.0.1:${port}/`, { dispatcher: untrusted }),
      ).rejects.toThrow(/self[- ]signed/);
      await untrusted.close();
    } finally {
      server.close();
    }
  });
});
