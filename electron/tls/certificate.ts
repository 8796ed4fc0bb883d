/**
 * Self-signed X.509 certificates with node:crypto alone: Hangar's client
 * identity (ECDSA P-384, like the one `lxc` generates) and the loopback
 * servers of tests and benchmarks. Node can sign but not build certificates,
 * so the few DER structures needed are encoded here.
 */
import { X509Certificate, createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const octets = (content: Buffer) => tlv(0x04, content);
const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]));

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      groups.unshift((value % 128) | (groups.length === 0 ? 0 : 0x80));
      if (value < 128) break;
    }
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function positiveInteger(bytes: Buffer): Buffer {
  const trimmed = bytes[0] === 0 ? bytes.subarray(1) : bytes;
  const first = trimmed[0] ?? 0;
  return tlv(0x02, first >= 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 requires. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(iso.slice(2)))
    : tlv(0x18, Buffer.from(iso));
}

function name(commonName: string, organization: string): Buffer {
  return sequence(
    set(sequence(oid('2.5.4.10'), utf8(organization))),
    set(sequence(oid('2.5.4.3'), utf8(commonName))),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octets(value));
}

export interface CertificateRequest {
  commonName: string;
  organization?: string;
  /** `client` for TLS client authentication (LXD trust); `server` for a loopback server. */
  usage: 'client' | 'server';
  /** Host names and IP addresses a server certificate is valid for. */
  hosts?: string[];
  validDays?: number;
}

export interface CertificateAndKey {
  certificate: string;
  key: string;
  fingerprint: string;
}

export function createSelfSignedCertificate(request: CertificateRequest): CertificateAndKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ecdsaWithSha384 = sequence(oid('1.2.840.10045.4.3.3'));
  const subject = name(request.commonName, request.organization ?? 'Hangar');
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (request.validDays ?? 3650) * 86_400_000);
  const digitalSignature = 0x80;
  const keyCertSign = 0x04;
  const keyUsage = request.usage === 'server' ? digitalSignature | keyCertSign : digitalSignature;
  const extendedKeyUsage = request.usage === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2';
  const extensions = [
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x00, keyUsage]))),
    extension('2.5.29.37', false, sequence(oid(extendedKeyUsage))),
    // A self-signed server certificate is its own trust anchor for Go's and Node's verifiers.
    extension('2.5.29.19', true, request.usage === 'server' ? sequence(boolean(true)) : sequence()),
  ];
  const hosts = request.hosts ?? [];
  if (hosts.length > 0) {
    const names = hosts.map((host) =>
      isIP(host) === 4
        ? tlv(0x87, Buffer.from(host.split('.').map(Number)))
        : tlv(0x82, Buffer.from(host, 'ascii')),
    );
    extensions.push(extension('2.5.29.17', false, sequence(...names)));
  }
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    positiveInteger(randomBytes(16)),
    ecdsaWithSha384,
    subject,
    sequence(time(notBefore), time(notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = sign('sha384', tbs, privateKey);
  const der = sequence(tbs, ecdsaWithSha384, tlv(0x03, Buffer.from([0]), signature));
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  const certificate = `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
  return {
    certificate,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    fingerprint: certificateFingerprint(certificate),
  };
}

/** SHA-256 of the certificate's DER, lowercase hex: what `lxc` and LXD call its fingerprint. */
export function certificateFingerprint(pemOrDer: string | Buffer): string {
  const der = typeof pemOrDer === 'string' ? new X509Certificate(pemOrDer).raw : pemOrDer;
  return createHash('sha256').update(der).digest('hex');
}

/** PEM of a DER certificate (what a TLS socket's peer certificate gives). */
export function derToPem(der: Buffer): string {
  return new X509Certificate(der).toString();
}
