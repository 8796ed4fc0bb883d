/**
 * Self-signed X.509 certificates: Hangar's client identity (ECDSA P-384, like
 * the one `lxc` generates) and the loopback servers of tests and benchmarks.
 * The certificate is built and DER-encoded by @peculiar/x509 (RFC 5280
 * structures from @peculiar/asn1-x509) and signed with Node's WebCrypto; no
 * encoding is done here.
 */
// @peculiar/x509 resolves its algorithm handlers through tsyringe, which needs the Reflect
// metadata API: this import must come before it.
import 'reflect-metadata';
import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
  type Extension,
  type JsonGeneralName,
} from '@peculiar/x509';
import { X509Certificate, createHash, createPrivateKey, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

export interface CertificateRequest {
  commonName: string;
  organization?: string;
  /** `client` for TLS client authentication (LXD trust); `server` for a loopback server. */
  usage: 'client' | 'server';
  /** Host names and IP addresses (v4 or v6) a server certificate is valid for. */
  hosts?: string[];
  validDays?: number;
}

export interface CertificateAndKey {
  certificate: string;
  key: string;
  fingerprint: string;
}

const ECDSA_P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;

/**
 * A new key pair and a self-signed certificate for it, valid from a minute ago
 * for `validDays` (ten years by default), with the extensions Hangar has always
 * written: key usage (critical), extended key usage, basic constraints
 * (critical; a server certificate is its own CA, as Go's and Node's verifiers
 * need for a self-signed trust anchor) and, for hosts, subject alternative names.
 */
export async function createSelfSignedCertificate(
  request: CertificateRequest,
): Promise<CertificateAndKey> {
  const keys = await webcrypto.subtle.generateKey(ECDSA_P384, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (request.validDays ?? 3650) * 86_400_000);
  const server = request.usage === 'server';
  // KeyUsageFlags are bit flags, OR-ed as the library documents.
  const keyUsage: number = server
    ? KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign
    : KeyUsageFlags.digitalSignature;
  const extensions: Extension[] = [
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- see keyUsage
    new KeyUsagesExtension(keyUsage, true),
    new ExtendedKeyUsageExtension(
      [server ? ExtendedKeyUsage.serverAuth : ExtendedKeyUsage.clientAuth],
      false,
    ),
    new BasicConstraintsExtension(server, undefined, true),
  ];
  const hosts = request.hosts ?? [];
  if (hosts.length > 0) {
    extensions.push(
      new SubjectAlternativeNameExtension(
        hosts.map((host): JsonGeneralName => ({
          type: isIP(host) === 0 ? 'dns' : 'ip',
          value: host,
        })),
        false,
      ),
    );
  }
  const made = await X509CertificateGenerator.createSelfSigned(
    {
      // No serialNumber: the library draws 16 random bytes and encodes them as a positive INTEGER.
      name: [{ O: [request.organization ?? 'Hangar'] }, { CN: [request.commonName] }],
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
      extensions,
    },
    webcrypto,
  );
  const certificate = new X509Certificate(Buffer.from(made.rawData)).toString();
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certificate,
    key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
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
