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
}

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

/** Network-level failures: the server could not be reached at all. */
function unreachable(endpoint: LxdEndpoint, error: unknown): HangarError {
  const code = systemErrorCode(error);
  const where = describeEndpoint(endpoint);
  const reasons: Record<string, string> = {
    ENOENT: 'the socket does not exist (is LXD installed and running?)',
    EACCES: 'permission denied (is your user in the lxd group?)',
    ECONNREFUSED: 'connection refused (is the LXD daemon running?)',
    ECONNRESET: 'the connection was reset',
    UND_ERR_SOCKET: 'the connection closed unexpectedly',
    UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
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
  private readonly dispatcher: Agent;
  /** The origin requests are sent to; the host part is ignored over a unix socket. */
  private readonly origin: string;

  constructor(endpoint: LxdEndpoint) {
    this.endpoint = endpoint;
    if (endpoint.kind === 'unix') {
      this.origin = 'http://lxd';
      this.dispatcher = new Agent({ connect: { socketPath: endpoint.socketPath } });
    } else {
      this.origin = endpoint.url.replace(/\/+$/, '');
      const pinned =
        endpoint.serverCert === undefined ? undefined : certificateFingerprint(endpoint.serverCert);
      this.dispatcher = new Agent({
        connect: {
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
    const response = await this.send(path, {
      ...options,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
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
    const response = await this.send(path, { ...options, body });
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
    const response = await this.send(path, { ...options, method: 'GET' });
    if (response.statusCode >= 400) await this.decode(response, 'GET', path);
    return response;
  }

  private async send(
    path: string,
    options: Omit<LxdRequestOptions, 'body'> & { body?: string | Readable | undefined },
  ): Promise<Dispatcher.ResponseData> {
    const { method = 'GET', body, headers = {}, signal } = options;
    try {
      return await request(this.url(path, options.query, options.project), {
        method,
        dispatcher: this.dispatcher,
        headers,
        body,
        signal,
        // Uploads and exports of big images take as long as they take; a stalled socket is
        // still noticed by the body timeout.
        headersTimeout: 0,
        bodyTimeout: 5 * 60_000,
      });
    } catch (error) {
      if (signal?.aborted) throw new HangarError('cancelled', 'The request was cancelled.');
      throw unreachable(this.endpoint, error);
    }
  }

  private async decode<T>(
    response: Dispatcher.ResponseData,
    method: string,
    path: string,
  ): Promise<LxdResponse<T>> {
    const text = await response.body.text();
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
