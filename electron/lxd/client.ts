/**
 * The one path by which Hangar talks to an LXD server: REST over undici,
 * LXD's response envelope decoded once, operations awaited with progress
 * read from /1.0/events. Never imports electron.
 */
import type { Readable } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import { Agent, WebSocket, request, type Dispatcher } from 'undici';
import { HangarError, type ErrorCode } from '../../shared/errors.js';
import type { LxdEvent, LxdOperation } from '../../shared/lxd.js';
import { certificateFingerprint } from '../tls/certificate.js';

/** Node's codes for a server certificate that failed verification. */
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HANGAR_CERT_MISMATCH',
]);

/** The system or TLS error code of a failure, looking through wrapping errors. */
export function systemErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR') && code !== 'lxd-unreachable')
      return code;
    current = (current as { cause?: unknown }).cause;
  }
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when a request failed because the server's certificate was not the one trusted. */
export function isCertificateError(error: unknown): boolean {
  return CERTIFICATE_ERRORS.has(systemErrorCode(error) ?? '');
}

export type LxdEndpoint =
  | { kind: 'unix'; socketPath: string }
  | {
      kind: 'https';
      /** e.g. https://10.0.0.2:8443 */
      url: string;
      clientCert?: string;
      clientKey?: string;
      /** PEM of the server certificate we pinned (LXD certificates are self-signed). */
      serverCert?: string;
    };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface LxdRequestOptions {
  method?: HttpMethod;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** LXD project; omitted means the server's default. */
  project?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** The server holds its answer this long on purpose (a long poll): added to the answer timeout. */
  holdMs?: number;
}

/** What a request is, for its timeouts: an API call, or a transfer whose bytes go one way. */
type RequestKind = 'api' | 'upload' | 'download';

export type LxdResponse<T> =
  | { type: 'sync'; metadata: T; etag: string | undefined }
  | { type: 'async'; operation: LxdOperation };

interface Envelope {
  type: 'sync' | 'async' | 'error';
  status_code: number;
  error_code: number;
  error: string;
  operation: string;
  metadata: unknown;
}

export function describeEndpoint(endpoint: LxdEndpoint): string {
  return endpoint.kind === 'unix' ? `unix socket ${endpoint.socketPath}` : endpoint.url;
}

/**
 * How long Hangar waits on an LXD server and how much of its answers it
 * reads. An API call (JSON) that gets no answer fails in seconds; a transfer
 * (an upload, an export) may take hours, and fails only when its bytes stop.
 */
export interface LxdClientLimits {
  /** The TCP connection and the TLS handshake. */
  connectTimeoutMs: number;
  /** An API call: until its answer starts, and the longest pause inside the answer. */
  answerTimeoutMs: number;
  /** A transfer: the longest time its bytes may stop flowing (either way). */
  transferStallMs: number;
  /** The largest JSON answer read (an image list of 20,000 images is about 15 to 35 MB). */
  maxEnvelopeBytes: number;
  /** The largest error answer read (LXD's are a few hundred bytes). */
  maxErrorBytes: number;
}

export const DEFAULT_LXD_LIMITS: LxdClientLimits = {
  connectTimeoutMs: 10_000,
  answerTimeoutMs: 60_000,
  transferStallMs: 5 * 60_000,
  maxEnvelopeBytes: 64 * 1024 * 1024,
  maxErrorBytes: 1024 * 1024,
};

export interface LxdClientOptions extends Partial<LxdClientLimits> {
  /** The remote's name, said in messages beside the address. */
  remote?: string | undefined;
}

/** What a failure message says about the server and its limits. */
interface FailureContext {
  remote?: string | undefined;
  connectTimeoutMs?: number;
  /** How long this request waited for its answer to start. */
  answerTimeoutMs?: number;
  /** The longest pause allowed inside this request's answer. */
  bodyTimeoutMs?: number;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

function describeServer(endpoint: LxdEndpoint, remote: string | undefined): string {
  const where = describeEndpoint(endpoint);
  return remote === undefined ? where : `${where} (remote "${remote}")`;
}

/** Network-level failures: the server could not be reached at all. */
function unreachable(
  endpoint: LxdEndpoint,
  error: unknown,
  context: FailureContext = {},
): HangarError {
  const code = systemErrorCode(error);
  const where = describeServer(endpoint, context.remote);
  const { connectTimeoutMs, answerTimeoutMs, bodyTimeoutMs } = context;
  const reasons: Record<string, string> = {
    ENOENT: 'the socket does not exist (is LXD installed and running?)',
    EACCES: 'permission denied (is your user in the lxd group?)',
    ECONNREFUSED: 'connection refused (is the LXD daemon running?)',
    ECONNRESET: 'the connection was reset',
    UND_ERR_SOCKET: 'the connection closed unexpectedly',
    UND_ERR_CONNECT_TIMEOUT:
      connectTimeoutMs === undefined
        ? 'the connection timed out'
        : `the connection and its TLS handshake did not complete within ${seconds(connectTimeoutMs)}`,
    UND_ERR_HEADERS_TIMEOUT:
      answerTimeoutMs === undefined
        ? 'the server did not answer'
        : `the server accepted the connection but did not answer within ${seconds(answerTimeoutMs)}`,
    UND_ERR_BODY_TIMEOUT:
      bodyTimeoutMs === undefined
        ? 'the server stopped sending'
        : `the server stopped sending for ${seconds(bodyTimeoutMs)}`,
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'the host name could not be resolved',
    EHOSTUNREACH: 'the host is unreachable',
    HANGAR_CERT_MISMATCH: 'the server presented another certificate than the one trusted',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'the server presented another certificate than the one trusted',
    ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not name this host",
    CERT_HAS_EXPIRED: "the server's certificate has expired",
  };
  const reason =
    (typeof code === 'string' ? reasons[code] : undefined) ??
    (error instanceof Error ? error.message : String(error));
  return new HangarError('lxd-unreachable', `Cannot reach LXD at ${where}: ${reason}.`, {
    cause: error,
  });
}

/** undici's codes for a request it refused to send: Hangar built it wrong, LXD was never asked. */
const BAD_REQUEST_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ERR_INVALID_URL',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_CHAR',
  'ERR_INVALID_HTTP_TOKEN',
]);

/** errno codes of a socket (as opposed to a file being read for the body). */
const SOCKET_ERRNOS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTCONN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
]);

/** The codes of an error and of the errors it wraps. */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** A failure of the connection itself: the socket, TLS, the network, HTTP framing, a timeout. */
function isConnectionFailure(error: unknown): boolean {
  return errorCodes(error).some(
    (code) =>
      (code.startsWith('UND_ERR') && !BAD_REQUEST_CODES.has(code)) ||
      code.startsWith('HPE_') ||
      code.startsWith('ERR_TLS_') ||
      code.startsWith('ERR_SSL_') ||
      CERTIFICATE_ERRORS.has(code) ||
      /^E[A-Z0-9_]+$/.test(code),
  );
}

/**
 * What a request that got no answer failed on, said as such: the body Hangar
 * was sending (its own error, e.g. a refused image file), a request Hangar
 * built wrong ('bad-request'), or the connection ('lxd-unreachable'). Only the
 * last one is "Cannot reach LXD".
 */
function requestFailure(
  endpoint: LxdEndpoint,
  request: string,
  body: string | Readable | undefined,
  error: unknown,
  context: FailureContext = {},
): HangarError {
  if (error instanceof HangarError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const codes = errorCodes(error);
  // The body's own failure (a file that could not be read), unless the connection caused it
  // (undici destroys the body with the socket's error).
  const bodyFailed =
    typeof body === 'object' &&
    body.errored === error &&
    !codes.some((code) => code.startsWith('UND_ERR') || SOCKET_ERRNOS.has(code)) &&
    (error as { syscall?: unknown }).syscall !== 'connect';
  if (bodyFailed)
    return new HangarError(
      'internal',
      `Reading what Hangar was sending to LXD (${request}) failed: ${message}. LXD keeps nothing of it.`,
      { cause: error },
    );
  const badRequest = () =>
    new HangarError(
      'bad-request',
      `Hangar built a request it cannot send (${request}): ${message}. It was not sent to LXD at ${describeEndpoint(endpoint)}; this is a bug in Hangar.`,
      { cause: error },
    );
  if (codes.some((code) => BAD_REQUEST_CODES.has(code))) return badRequest();
  if (isConnectionFailure(error)) return unreachable(endpoint, error, context);
  if (error instanceof TypeError) return badRequest();
  return new HangarError(
    'internal',
    `${request} to LXD at ${describeEndpoint(endpoint)} failed: ${message}.`,
    { cause: error },
  );
}

/** The Hangar error code for an HTTP status LXD answered with (its message is kept). */
export function errorCodeOf(status: number): ErrorCode {
  switch (status) {
    case 404:
      return 'not-found';
    // A name already taken (an alias, an instance).
    case 409:
      return 'conflict';
    // If-Match: it changed since its ETag was read.
    case 412:
      return 'outdated';
    default:
      return 'lxd-error';
  }
}

export class LxdClient {
  readonly endpoint: LxdEndpoint;
  readonly limits: LxdClientLimits;
  /** The remote's name, for messages; undefined for a server not added as a remote. */
  readonly remote: string | undefined;
  private readonly dispatcher: Agent;
  /** The origin requests are sent to; the host part is ignored over a unix socket. */
  private readonly origin: string;

  constructor(endpoint: LxdEndpoint, options: LxdClientOptions = {}) {
    this.endpoint = endpoint;
    const { remote, ...limits } = options;
    this.remote = remote;
    this.limits = { ...DEFAULT_LXD_LIMITS, ...limits };
    const { connectTimeoutMs, answerTimeoutMs } = this.limits;
    if (endpoint.kind === 'unix') {
      this.origin = 'http://lxd';
      this.dispatcher = new Agent({
        connect: { socketPath: endpoint.socketPath, timeout: connectTimeoutMs },
        // The events websocket's handshake; each request sets its own.
        headersTimeout: answerTimeoutMs,
      });
    } else {
      this.origin = endpoint.url.replace(/\/+$/, '');
      const pinned =
        endpoint.serverCert === undefined ? undefined : certificateFingerprint(endpoint.serverCert);
      this.dispatcher = new Agent({
        headersTimeout: answerTimeoutMs,
        connect: {
          // Covers the TLS handshake too: a server that accepts and never shakes hands fails.
          timeout: connectTimeoutMs,
          cert: endpoint.clientCert,
          key: endpoint.clientKey,
          ca: endpoint.serverCert,
          // LXD's self-signed certificates rarely name the address: trust is the pinned certificate itself.
          ...(pinned === undefined
            ? {}
            : {
                checkServerIdentity: (_host: string, cert: PeerCertificate) =>
                  certificateFingerprint(cert.raw) === pinned
                    ? undefined
                    : Object.assign(new Error('the server certificate is not the pinned one'), {
                        code: 'HANGAR_CERT_MISMATCH',
                      }),
              }),
        },
      });
    }
  }

  private url(
    path: string,
    query: LxdRequestOptions['query'],
    project: string | undefined,
  ): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.set(key, value);
    }
    if (project !== undefined) params.set('project', project);
    const search = params.toString();
    return `${this.origin}${path}${search === '' ? '' : `?${search}`}`;
  }

  /** Sends one request and decodes LXD's envelope; LXD's own error message is kept. */
  async request<T>(path: string, options: LxdRequestOptions = {}): Promise<LxdResponse<T>> {
    const { body, headers = {} } = options;
    const response = await this.send(
      path,
      {
        ...options,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      'api',
    );
    return this.decode<T>(response, options.method ?? 'GET', path);
  }

  /**
   * Streams a body to LXD (an image upload) and decodes the answer. The body
   * is read as LXD takes it, so a file is never held in memory.
   */
  async upload<T>(
    path: string,
    body: Readable,
    options: Omit<LxdRequestOptions, 'body'> = {},
  ): Promise<LxdResponse<T>> {
    const response = await this.send(path, { ...options, body }, 'upload');
    return this.decode<T>(response, options.method ?? 'POST', path);
  }

  /**
   * A response whose body is not an envelope (an image export): LXD's error
   * envelope is still decoded when it fails.
   */
  async download(
    path: string,
    options: Omit<LxdRequestOptions, 'body' | 'method'> = {},
  ): Promise<Dispatcher.ResponseData> {
    const response = await this.send(path, { ...options, method: 'GET' }, 'download');
    if (response.statusCode >= 400) await this.decode(response, 'GET', path);
    return response;
  }

  /**
   * The error to report when reading a download's body failed (the server
   * went away or stalled mid-transfer): said as a lost connection to this
   * server. Hangar's own errors (a file that could not be written) pass as they are.
   */
  transferFailure(error: unknown): HangarError {
    if (error instanceof HangarError) return error;
    return requestFailure(
      this.endpoint,
      'the transfer',
      undefined,
      error,
      this.failureContext('download'),
    );
  }

  /**
   * The timeouts of a request. An API call must start answering within the
   * answer timeout. An upload's answer comes once LXD has read the body:
   * undici's headers timer is refreshed while the body is written, so it
   * measures a stall. A download's answer starts at once, and its body may
   * then take as long as it takes while bytes flow.
   */
  private timeouts(kind: RequestKind, holdMs = 0): { headersTimeout: number; bodyTimeout: number } {
    const { answerTimeoutMs, transferStallMs } = this.limits;
    switch (kind) {
      case 'api':
        return { headersTimeout: answerTimeoutMs + holdMs, bodyTimeout: answerTimeoutMs };
      case 'upload':
        return { headersTimeout: transferStallMs, bodyTimeout: answerTimeoutMs };
      case 'download':
        return { headersTimeout: answerTimeoutMs, bodyTimeout: transferStallMs };
    }
  }

  private failureContext(kind: RequestKind, holdMs = 0): FailureContext {
    const { headersTimeout, bodyTimeout } = this.timeouts(kind, holdMs);
    return {
      remote: this.remote,
      connectTimeoutMs: this.limits.connectTimeoutMs,
      answerTimeoutMs: headersTimeout,
      bodyTimeoutMs: bodyTimeout,
    };
  }

  private async send(
    path: string,
    options: Omit<LxdRequestOptions, 'body'> & { body?: string | Readable | undefined },
    kind: RequestKind,
  ): Promise<Dispatcher.ResponseData> {
    const { method = 'GET', body, headers = {}, signal, holdMs } = options;
    try {
      return await request(this.url(path, options.query, options.project), {
        method,
        dispatcher: this.dispatcher,
        headers,
        body,
        signal,
        ...this.timeouts(kind, holdMs),
      });
    } catch (error) {
      if (signal?.aborted) throw new HangarError('cancelled', 'The request was cancelled.');
      throw requestFailure(
        this.endpoint,
        `${method} ${path}`,
        body,
        error,
        this.failureContext(kind, holdMs),
      );
    }
  }

  /**
   * An answer's body, read up to `limit` bytes: a server that sends more (or
   * never stops) is cut off with an error naming it, before it fills memory.
   */
  private async readBody(
    response: Dispatcher.ResponseData,
    limit: number,
    method: string,
    path: string,
  ): Promise<string> {
    const tooBig = () => {
      response.body.on('error', () => undefined);
      response.body.destroy();
      return new HangarError(
        'lxd-error',
        `${describeServer(this.endpoint, this.remote)} sent ${response.statusCode >= 400 ? 'an error' : 'an answer'} larger than ${limit / (1024 * 1024)} MiB for ${method} ${path}: Hangar stopped reading it. Is this an LXD server?`,
        { status: response.statusCode },
      );
    };
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) throw tooBig();
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw tooBig();
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof HangarError) throw error;
      // The server went away or stalled in the middle of its answer.
      throw requestFailure(
        this.endpoint,
        `${method} ${path}`,
        undefined,
        error,
        this.failureContext('api'),
      );
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  private async decode<T>(
    response: Dispatcher.ResponseData,
    method: string,
    path: string,
  ): Promise<LxdResponse<T>> {
    const { maxEnvelopeBytes, maxErrorBytes } = this.limits;
    const text = await this.readBody(
      response,
      response.statusCode >= 400 ? maxErrorBytes : maxEnvelopeBytes,
      method,
      path,
    );
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      throw new HangarError(
        'lxd-error',
        `${describeEndpoint(this.endpoint)} did not answer like an LXD server (HTTP ${response.statusCode} for ${method} ${path}).`,
        { status: response.statusCode },
      );
    }
    if (envelope.type === 'error' || response.statusCode >= 400) {
      const status = envelope.error_code || response.statusCode;
      const message = envelope.error || `HTTP ${response.statusCode}`;
      throw new HangarError(errorCodeOf(status), message, { status });
    }
    if (envelope.type === 'async') {
      return { type: 'async', operation: envelope.metadata as LxdOperation };
    }
    const etag = response.headers.etag;
    return {
      type: 'sync',
      metadata: envelope.metadata as T,
      etag: typeof etag === 'string' ? etag : undefined,
    };
  }

  /** A request that must answer synchronously. */
  async get<T>(path: string, options: Omit<LxdRequestOptions, 'method' | 'body'> = {}): Promise<T> {
    const response = await this.request<T>(path, options);
    if (response.type !== 'sync') {
      throw new HangarError('internal', `LXD answered GET ${path} with an operation.`);
    }
    return response.metadata;
  }

  /**
   * Waits for an operation to end. Progress comes from the events stream;
   * aborting the signal cancels the operation in LXD when it can be cancelled.
   */
  async waitForOperation(
    operation: LxdOperation,
    options: {
      /** Each update of the operation (its metadata carries progress; may_cancel can change). */
      onProgress?: (operation: LxdOperation) => void;
      signal?: AbortSignal;
      project?: string;
    } = {},
  ): Promise<LxdOperation> {
    const { onProgress, signal, project } = options;
    const events =
      onProgress === undefined
        ? undefined
        : this.openEvents(['operation'], { project }, (event) => {
            const op = event.metadata as unknown as LxdOperation;
            if (op.id === operation.id) onProgress(op);
          });
    const onAbort = () => {
      void this.request(`/1.0/operations/${operation.id}`, { method: 'DELETE' }).catch(
        () => undefined,
      );
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) onAbort();
      // Long-poll in slices so a daemon that dies mid-wait is noticed.
      for (;;) {
        const current = await this.get<LxdOperation>(`/1.0/operations/${operation.id}/wait`, {
          query: { timeout: '5' },
          holdMs: 5000,
        });
        if (current.status_code === 200) return current;
        if (current.status_code === 401)
          throw new HangarError('cancelled', 'The operation was cancelled.');
        if (current.status_code === 400) {
          throw new HangarError('lxd-error', current.err || 'The operation failed.');
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      events?.close();
    }
  }

  /**
   * Opens LXD's events websocket. `onClose` fires once, whether the server
   * went away or `close()` was called.
   */
  openEvents(
    types: ('operation' | 'lifecycle' | 'logging')[],
    scope: { project?: string | undefined; allProjects?: boolean },
    onEvent: (event: LxdEvent) => void,
    onClose?: (reason: string) => void,
  ): { close: () => void; opened: Promise<void> } {
    const query = {
      type: types.join(','),
      'all-projects': scope.allProjects === true ? 'true' : undefined,
    };
    const url = this.url('/1.0/events', query, scope.project).replace(/^http/, 'ws');
    const socket = new WebSocket(url, { dispatcher: this.dispatcher });
    let closed = false;
    const finish = (reason: string) => {
      if (closed) return;
      closed = true;
      onClose?.(reason);
    };
    const opened = new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve());
      socket.addEventListener('error', () =>
        reject(unreachable(this.endpoint, new Error('the events stream failed'))),
      );
    });
    opened.catch(() => undefined);
    socket.addEventListener('message', (message) => {
      if (typeof message.data !== 'string') return;
      try {
        onEvent(JSON.parse(message.data) as LxdEvent);
      } catch {
        // A malformed event is not worth dropping the stream for.
      }
    });
    socket.addEventListener('close', () => finish('the events stream closed'));
    socket.addEventListener('error', () => finish('the events stream failed'));
    return {
      opened,
      close: () => {
        socket.close();
        finish('closed');
      },
    };
  }

  /** Closing twice is harmless (a connection and a caller may both close). */
  async close(): Promise<void> {
    if (this.dispatcher.closed || this.dispatcher.destroyed) return;
    await this.dispatcher.close();
  }
}
