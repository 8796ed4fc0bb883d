import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { TLSSocket, checkServerIdentity } from 'node:tls';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { certificateFingerprint, createSelfSignedCertificate } from './certificate.js';
import { scratchDirs } from '../../scripts/testing/scratch-dirs.js';

const run = promisify(execFile);
const dir = await scratchDirs()('hangar-cert-');
const fixtures = join(import.meta.dirname, 'fixtures');
let written = 0;

/** Writes a PEM to a temporary file for openssl. */
function pemFile(pem: string): string {
  const path = join(dir, `${written++}.crt`);
  writeFileSync(path, pem);
  return path;
}

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8' });
}

/** The extensions block of `openssl x509 -text`, which is the same for every cert of a usage. */
function extensionsText(pem: string): string {
  const text = openssl('x509', '-in', pemFile(pem), '-noout', '-text');
  return /X509v3 extensions:\n([\s\S]*?)\n {4}Signature Algorithm/.exec(text)?.[1] ?? '';
}

/** The DER bytes of the serial number INTEGER, read from the certificate itself. */
function serialInteger(der: Buffer): Buffer {
  let offset = 0;
  const header = () => {
    const tag = der[offset] ?? -1;
    let length = der[offset + 1] ?? 0;
    offset += 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      length = der.subarray(offset, offset + count).reduce((sum, byte) => sum * 256 + byte, 0);
      offset += count;
    }
    return { tag, length };
  };
  expect(header().tag).toBe(0x30); // Certificate
  expect(header().tag).toBe(0x30); // TBSCertificate
  const version = header();
  expect(version.tag).toBe(0xa0);
  offset += version.length;
  const serial = header();
  expect(serial.tag).toBe(0x02);
  return der.subarray(offset, offset + serial.length);
}

const toBigInt = (bytes: Uint8Array) =>
  bytes.reduce((value, byte) => value * 256n + BigInt(byte), 0n);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createSelfSignedCertificate', () => {
  it('makes an ECDSA P-384 client certificate that openssl reads like lxc’s own', async () => {
    const made = await createSelfSignedCertificate({ commonName: 'hangar@test', usage: 'client' });
    const cert = new X509Certificate(made.certificate);
    expect(cert.subject).toContain('CN=hangar@test');
    expect(cert.subject).toContain('O=Hangar');
    expect(cert.checkPrivateKey(createPrivateKey(made.key))).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 9 * 365 * 86_400_000);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBeUndefined();
    expect(made.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(made.fingerprint).toBe(certificateFingerprint(cert.raw));

    const file = pemFile(made.certificate);
    const text = openssl('x509', '-in', file, '-noout', '-text');
    expect(text).toContain('TLS Web Client Authentication');
    expect(text).toContain('ecdsa-with-SHA384');
    const sha256 = openssl('x509', '-in', file, '-noout', '-fingerprint', '-sha256');
    expect(sha256.split('=')[1]?.trim().replaceAll(':', '').toLowerCase()).toBe(made.fingerprint);
  });

  it('makes a server certificate a TLS client accepts for 127.0.0.1 when it is the trusted CA', async () => {
    const made = await createSelfSignedCertificate({
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

  it('names an IPv6 host as an IP address, not as a DNS name', async () => {
    const made = await createSelfSignedCertificate({
      commonName: 'loopback',
      usage: 'server',
      hosts: ['::1', '2001:db8::42', '127.0.0.1', 'localhost'],
    });
    const cert = new X509Certificate(made.certificate);
    expect(cert.subjectAltName).toBe(
      'IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:0:0:42, ' +
        'IP Address:127.0.0.1, DNS:localhost',
    );
    const text = openssl(
      'x509',
      '-in',
      pemFile(made.certificate),
      '-noout',
      '-ext',
      'subjectAltName',
    );
    expect(text).toContain('IP Address:0:0:0:0:0:0:0:1');
    expect(text).not.toContain('DNS:::1');
    expect(checkServerIdentity('::1', cert.toLegacyObject())).toBeUndefined();
    expect(checkServerIdentity('2001:db8::42', cert.toLegacyObject())).toBeUndefined();
    expect(checkServerIdentity('::2', cert.toLegacyObject())).toBeInstanceOf(Error);

    // A TLS client that connects to [::1] accepts it.
    const server = createServer({ cert: made.certificate, key: made.key }, (_req, res) =>
      res.end('ok'),
    );
    await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
    const { port } = server.address() as { port: number };
    const trusted = new Agent({ connect: { ca: made.certificate } });
    try {
      const response = await request(`https://[::1]:${port}/`, { dispatcher: trusted });
      expect(await response.body.text()).toBe('ok');
    } finally {
      await trusted.close();
      server.close();
    }
  });

  it('encodes every serial number as a minimal positive INTEGER that Node and openssl read', async () => {
    // The serial is 16 random bytes: feed the generator the hard cases (leading zero bytes,
    // a first byte with its high bit set) as well as plain random ones.
    const serials: Buffer[] = [];
    for (let zeros = 0; zeros < 16; zeros++) {
      for (const first of [0x01, 0x80]) {
        const bytes = randomBytes(16);
        bytes.fill(0, 0, zeros);
        bytes[zeros] = first;
        serials.push(bytes);
      }
    }
    for (let i = 0; i < 16; i++) serials.push(randomBytes(16));
    const queue = [...serials];
    const getRandomValues = webcrypto.getRandomValues.bind(webcrypto);
    const fake = (array: Uint8Array): Uint8Array => {
      const next = queue[0];
      if (array.length === 16 && next !== undefined) {
        queue.shift();
        array.set(next);
        return array;
      }
      return getRandomValues(array);
    };
    const drawn = vi
      .spyOn(webcrypto, 'getRandomValues')
      .mockImplementation(fake as typeof webcrypto.getRandomValues);

    const made: { serial: Buffer; certificate: string }[] = [];
    for (const serial of serials) {
      const { certificate } = await createSelfSignedCertificate({
        commonName: 'serial',
        usage: 'client',
      });
      made.push({ serial, certificate });
    }
    expect(drawn).toHaveBeenCalled();
    expect(queue).toEqual([]);

    const fromOpenssl = await Promise.all(
      made.map(async ({ certificate }) => {
        const { stdout } = await run('openssl', [
          'x509',
          '-in',
          pemFile(certificate),
          '-noout',
          '-serial',
        ]);
        return stdout.trim().replace(/^serial=/, '');
      }),
    );
    made.forEach(({ serial, certificate }, index) => {
      const value = toBigInt(serial);
      const cert = new X509Certificate(certificate);
      const encoded = serialInteger(cert.raw);
      // DER: no redundant leading zero byte, and positive.
      if (encoded.length > 1) expect(encoded[0] === 0 && (encoded[1] ?? 0) < 0x80).toBe(false);
      expect((encoded[0] ?? 0) & 0x80).toBe(0);
      expect(toBigInt(encoded)).toBe(value);
      expect(BigInt(`0x${cert.serialNumber}`)).toBe(value);
      expect(BigInt(`0x${fromOpenssl[index] ?? ''}`)).toBe(value);
    });
  });
});

describe('certificates made by the hand-written encoder (before @peculiar/x509)', () => {
  const old = JSON.parse(readFileSync(join(fixtures, 'old-fingerprints.json'), 'utf8')) as Record<
    string,
    string
  >;

  for (const name of ['old-client', 'old-server']) {
    it(`still parse, match their key and fingerprint the same: ${name}`, () => {
      const pem = readFileSync(join(fixtures, `${name}.crt`), 'utf8');
      const cert = new X509Certificate(pem);
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect(
        cert.checkPrivateKey(createPrivateKey(readFileSync(join(fixtures, `${name}.key`)))),
      ).toBe(true);
      expect(certificateFingerprint(pem)).toBe(old[`${name}.crt`]);
      expect(certificateFingerprint(cert.raw)).toBe(old[`${name}.crt`]);
      const sha256 = openssl(
        'x509',
        '-in',
        join(fixtures, `${name}.crt`),
        '-noout',
        '-fingerprint',
        '-sha256',
      );
      expect(sha256.split('=')[1]?.trim().replaceAll(':', '').toLowerCase()).toBe(
        old[`${name}.crt`],
      );
    });
  }

  it('have the validity and extensions the new code writes', async () => {
    const oldClient = readFileSync(join(fixtures, 'old-client.crt'), 'utf8');
    const oldServer = readFileSync(join(fixtures, 'old-server.crt'), 'utf8');
    const newClient = await createSelfSignedCertificate({ commonName: 'c', usage: 'client' });
    const newServer = await createSelfSignedCertificate({
      commonName: 's',
      usage: 'server',
      hosts: ['127.0.0.1', 'localhost'],
    });
    expect(extensionsText(newClient.certificate)).toBe(extensionsText(oldClient));
    expect(extensionsText(newServer.certificate)).toBe(extensionsText(oldServer));
    const days = (pem: string) => {
      const cert = new X509Certificate(pem);
      return (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    };
    expect(days(newClient.certificate)).toBe(days(oldClient));
    expect(days(newServer.certificate)).toBe(3650);
    expect(new X509Certificate(newServer.certificate).ca).toBe(new X509Certificate(oldServer).ca);
  });

  it('still authenticate as a client to a server that trusts them', async () => {
    const pem = readFileSync(join(fixtures, 'old-client.crt'), 'utf8');
    const key = readFileSync(join(fixtures, 'old-client.key'), 'utf8');
    const serverIdentity = await createSelfSignedCertificate({
      commonName: 'loopback',
      usage: 'server',
      hosts: ['127.0.0.1'],
    });
    const server = createServer(
      // As LXD does: any client certificate is taken, then looked up by fingerprint.
      {
        cert: serverIdentity.certificate,
        key: serverIdentity.key,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const peer =
          req.socket instanceof TLSSocket ? req.socket.getPeerX509Certificate() : undefined;
        res.end(peer === undefined ? '' : certificateFingerprint(peer.raw));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const client = new Agent({ connect: { ca: serverIdentity.certificate, cert: pem, key } });
    try {
      const response = await request(`https://127.0.0.1:${port}/`, { dispatcher: client });
      expect(await response.body.text()).toBe(certificateFingerprint(pem));
    } finally {
      await client.close();
      server.close();
    }
  });
});
