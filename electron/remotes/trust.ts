/**
 * Trust on first use, as `lxc remote add` does it: read the certificate a
 * server presents, let the user compare its fingerprint, pin it, and become
 * a trusted client with a trust token or password.
 */
import { connect, type PeerCertificate } from 'node:tls';
import type { ServerProbe } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { LxdServerInfo } from '../../shared/lxd.js';
import { LxdClient } from '../lxd/client.js';
import { certificateFingerprint, derToPem } from '../tls/certificate.js';
import type { ClientCertificate } from './identity.js';

const PROBE_TIMEOUT_MS = 10_000;

/** `host`, `host:port` or a URL → `https://host:port`, defaulting to LXD's port 8443 as lxc does. */
export function normalizeLxdAddress(addr: string): string {
  let text = addr.trim();
  if (text.startsWith('unix:'))
    throw new HangarError(
      'invalid-input',
      'Unix sockets are the local remote; other LXD remotes are reached over https://.',
    );
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `https://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HangarError('invalid-input', `"${addr}" is not a host name, address or URL.`);
  }
  if (url.protocol !== 'https:')
    throw new HangarError(
      'invalid-input',
      `LXD remotes are reached over https://, not ${url.protocol}//.`,
    );
  // URL drops an explicit :443, which must not become :8443.
  const explicitPort = /^https:\/\/(\[[^\]]*\]|[^/:?#]*):\d+/i.test(text);
  return `https://${url.hostname}:${explicitPort ? url.port || '443' : '8443'}`;
}

/** Simplestreams servers are plain HTTPS sites; like lxc, only https is accepted. */
export function normalizeSimplestreamsAddress(addr: string): string {
  let url: URL;
  try {
    url = new URL(addr.trim());
  } catch {
    throw new HangarError('invalid-input', `"${addr}" is not a URL (https://host/path).`);
  }
  if (url.protocol !== 'https:')
    throw new HangarError(
      'invalid-input',
      'Simplestreams servers must be https:// URLs, as in lxc.',
    );
  return url.href.replace(/\/+$/, '');
}

export interface TrustToken {
  clientName: string;
  /** SHA-256 of the server certificate the token was issued by. */
  fingerprint: string;
  addresses: string[];
  secret: string;
  expiresAt: Date | undefined;
  raw: string;
}

/** Decodes `lxc config trust add`'s token: base64 JSON. */
export function decodeTrustToken(token: string): TrustToken {
  const raw = token.trim();
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    data = undefined;
  }
  const fields = (data ?? {}) as Record<string, unknown>;
  const { client_name, fingerprint, addresses, secret, expires_at } = fields;
  if (
    typeof fingerprint !== 'string' ||
    !/^[0-9a-f]{64}$/.test(fingerprint) ||
    !Array.isArray(addresses) ||
    !addresses.every((a) => typeof a === 'string') ||
    typeof secret !== 'string'
  ) {
    throw new HangarError(
      'invalid-input',
      'This is not an LXD trust token (the one `lxc config trust add` prints on the server).',
    );
  }
  const expiry = typeof expires_at === 'string' ? new Date(expires_at) : undefined;
  // Go's zero time means no expiry.
  const expiresAt =
    expiry === undefined || Number.isNaN(expiry.getTime()) || expiry.getUTCFullYear() <= 1
      ? undefined
      : expiry;
  if (expiresAt !== undefined && expiresAt.getTime() < Date.now()) {
    throw new HangarError(
      'invalid-input',
      `This trust token expired on ${expiresAt.toISOString()}. Ask for a new one with \`lxc config trust add\`.`,
    );
  }
  return {
    clientName: typeof client_name === 'string' ? client_name : '',
    fingerprint,
    addresses,
    secret,
    expiresAt,
    raw,
  };
}

/** The certificate a TLS server presents, whoever signed it. */
export async function presentedCertificate(
  url: string,
): Promise<{ pem: string; fingerprint: string; subject: string; expiresAt: string }> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  const peer = await new Promise<PeerCertificate>((resolve, reject) => {
    // Verification is the user's comparison of fingerprints; nothing is sent on this socket.
    const socket = connect({
      host,
      port: Number(port || 443),
      rejectUnauthorized: false,
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      timeout: PROBE_TIMEOUT_MS,
    });
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      socket.destroy();
      resolve(certificate);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('the connection timed out'));
    });
    socket.once('error', reject);
  }).catch((error: unknown) => {
    const code = (error as { code?: string }).code;
    const reason =
      code === 'ECONNREFUSED'
        ? 'connection refused (is LXD listening there? `lxc config set core.https_address`)'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'no such host'
          : code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
            ? 'the host is unreachable'
            : (error as Error).message;
    throw new HangarError('lxd-unreachable', `Cannot reach ${url}: ${reason}.`, { cause: error });
  });
  if (peer.raw.length === 0) throw new HangarError('lxd-error', `${url} presented no certificate.`);
  return {
    pem: derToPem(peer.raw),
    fingerprint: certificateFingerprint(peer.raw),
    subject: [peer.subject.CN].flat().join(', '),
    expiresAt: new Date(peer.valid_to).toISOString(),
  };
}

/** An HTTPS LXD client that talks only to the server holding `serverCert`. */
export function pinnedClient(
  url: string,
  serverCert: string,
  identity: ClientCertificate | undefined,
): LxdClient {
  return new LxdClient({
    kind: 'https',
    url,
    serverCert,
    ...(identity === undefined
      ? {}
      : { clientCert: identity.certificate, clientKey: identity.key }),
  });
}

export interface ProbedServer extends ServerProbe {
  pem: string;
}

/** What a server at `url` is, before any trust: its certificate and its untrusted view of /1.0. */
export async function probeServer(
  url: string,
  identity: ClientCertificate | undefined,
): Promise<ProbedServer> {
  const presented = await presentedCertificate(url);
  const client = pinnedClient(url, presented.pem, identity);
  try {
    // Whatever answers on that port is not trusted to be LXD until it says so.
    const info = await client.get<Partial<LxdServerInfo> | null>('/1.0');
    if (
      typeof info !== 'object' ||
      info === null ||
      (info.auth !== 'trusted' && info.auth !== 'untrusted')
    )
      throw new HangarError('lxd-error', `${url} did not answer like an LXD server.`);
    return {
      url,
      pem: presented.pem,
      certificate: {
        fingerprint: presented.fingerprint,
        subject: presented.subject,
        expiresAt: presented.expiresAt,
      },
      auth: info.auth,
      serverName: info.environment?.server_name ?? '',
      serverVersion: info.environment?.server_version ?? '',
    };
  } finally {
    await client.close();
  }
}

/** Finds the token's server among its addresses: the one presenting the certificate the token names. */
export async function probeToken(
  token: TrustToken,
  identity: ClientCertificate | undefined,
  addr?: string,
): Promise<ProbedServer> {
  const candidates = addr === undefined ? token.addresses : [addr];
  if (candidates.length === 0)
    throw new HangarError(
      'invalid-input',
      'The trust token lists no server address (is core.https_address set on the server?). Enter the address.',
    );
  const failures: string[] = [];
  for (const candidate of candidates) {
    const url = normalizeLxdAddress(candidate);
    try {
      const presented = await presentedCertificate(url);
      if (presented.fingerprint !== token.fingerprint) {
        failures.push(
          `${url} presents certificate ${presented.fingerprint}, not the token's ${token.fingerprint}`,
        );
        continue;
      }
      return { ...(await probeServer(url, identity)), tokenClientName: token.clientName };
    } catch (error) {
      failures.push(HangarError.from(error).message.replace(/\.$/, ''));
    }
  }
  throw new HangarError(
    'lxd-unreachable',
    `No address in the trust token reached its server: ${failures.join('; ')}.`,
  );
}

/** `POST /1.0/certificates` with our client certificate: the server trusts it from then on. */
export async function authenticate(
  client: LxdClient,
  credential: { token: string } | { password: string },
): Promise<void> {
  const info = await client.get<LxdServerInfo>('/1.0');
  if (info.auth === 'trusted') return;
  // Servers before the explicit_trust_token extension (Debian's LXD 5.0.2) read tokens from `password`.
  const body =
    'token' in credential
      ? info.api_extensions.includes('explicit_trust_token')
        ? { type: 'client', trust_token: credential.token }
        : { type: 'client', password: credential.token }
      : { type: 'client', password: credential.password };
  try {
    await client.request('/1.0/certificates', { method: 'POST', body });
  } catch (error) {
    const failure = HangarError.from(error);
    if (!['lxd-error', 'not-found', 'conflict'].includes(failure.code)) throw failure;
    const what = 'token' in credential ? 'trust token' : 'trust password';
    throw new HangarError(
      'not-trusted',
      `The server refused the ${what}: ${failure.message}. ${
        'token' in credential
          ? 'A token works once: ask for a new one with `lxc config trust add` on the server.'
          : 'Check core.trust_password on the server.'
      }`,
      { status: failure.status },
    );
  }
  const after = await client.get<LxdServerInfo>('/1.0');
  if (after.auth !== 'trusted')
    throw new HangarError(
      'not-trusted',
      'The server accepted the request but still does not trust Hangar.',
    );
}
