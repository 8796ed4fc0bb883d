/**
 * A failed request to an image server, told to the user in their terms:
 * which host, and whether it is the network, the TLS certificate or the
 * server's answer that is wrong.
 */
import { HangarError } from '../../shared/errors.js';

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
]);

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the address right and the server running?)',
  ENOTFOUND: 'the host name could not be resolved',
  EAI_AGAIN: 'the host name could not be resolved (DNS did not answer)',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  ECONNRESET: 'the server closed the connection',
  EPIPE: 'the server closed the connection',
  UND_ERR_SOCKET: 'the server closed the connection',
  UND_ERR_HEADERS_TIMEOUT: 'the server stopped answering',
  UND_ERR_BODY_TIMEOUT: 'the server stopped sending',
};

interface Coded {
  code?: unknown;
  reason?: unknown;
  message?: unknown;
  cause?: unknown;
  name?: unknown;
}

/** The innermost meaningful error code, looking through undici's wrappers. */
function failureOf(error: unknown): { code: string | undefined; detail: Coded } {
  let found: { code: string | undefined; detail: Coded } = { code: undefined, detail: {} };
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const coded = current as Coded;
    if (typeof coded.code === 'string') found = { code: coded.code, detail: coded };
    current = coded.cause;
  }
  return found;
}

export function isAbort(error: unknown): boolean {
  const { code } = failureOf(error);
  const name = (error as Coded | null)?.name;
  return code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR' || name === 'AbortError';
}

/** What went wrong reaching `url` (a file of the server), for the UI. */
export function networkFailure(error: unknown, url: string, customCa: boolean): HangarError {
  const origin = new URL(url).origin;
  if (isAbort(error))
    return new HangarError('cancelled', `Reading ${url} was cancelled.`, { cause: error });
  const { code, detail } = failureOf(error);
  const message = typeof detail.message === 'string' ? detail.message : String(error);
  const fail = (text: string) => new HangarError('lxd-unreachable', text, { cause: error });
  if (code !== undefined && UNTRUSTED.has(code)) {
    const anchor = customCa
      ? 'the certificate authority configured for this remote'
      : 'any certificate authority this system trusts';
    return fail(
      `The TLS certificate of ${origin} is not trusted (${message}): it is not signed by ${anchor}.`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const reason = typeof detail.reason === 'string' ? detail.reason : message;
    return fail(`The TLS certificate of ${origin} does not match its address: ${reason}`);
  }
  if (code === 'CERT_HAS_EXPIRED') return fail(`The TLS certificate of ${origin} has expired.`);
  if (code === 'CERT_NOT_YET_VALID')
    return fail(`The TLS certificate of ${origin} is not valid yet (check this computer's clock).`);
  if (code?.startsWith('ERR_SSL_') === true || code === 'EPROTO')
    return fail(`The TLS handshake with ${origin} failed: ${message}`);
  const reason = code === undefined ? undefined : UNREACHABLE[code];
  return fail(`Cannot reach ${origin}: ${reason ?? message}.`);
}
