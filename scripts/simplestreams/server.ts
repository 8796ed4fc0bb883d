/**
 * A loopback HTTPS simplestreams server for tests and benchmarks: serves
 * files with ETag and Last-Modified, answers conditional requests with 304,
 * records every request, and can be made to fail (garbage, HTTP errors,
 * offline) to exercise a client's fallbacks.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import {
  certificateFingerprint,
  createSelfSignedCertificate,
} from '../../electron/tls/certificate.js';

export interface ServedRequest {
  method: string;
  /** Path without the leading slash, decoded. */
  path: string;
  status: number;
  /** The request carried If-None-Match or If-Modified-Since. */
  conditional: boolean;
  /** Body bytes sent (compressed, when gzip). */
  bytes: number;
  /** The body was sent gzip-encoded. */
  gzip: boolean;
}

/** normal; garbage: every file is HTML; status: every request gets `failStatus`. */
export type ServerMode = 'normal' | 'garbage' | 'status';

export interface SimplestreamsServerOptions {
  files: Map<string, Buffer | string>;
  /** The server's certificate and key (PEM); default: a fresh self-signed one. */
  identity?: { certificate: string; key: string };
  /** Last-Modified of the initial files. Default: the start time. */
  lastModified?: Date;
  /** Sends bodies no faster than this, as a network link would (default: as fast as it can). */
  bytesPerSecond?: number;
  /**
   * Sends files gzip-encoded to clients that accept it, as the public image servers' nginx does
   * (at its default level, 1). Default: never.
   */
  gzip?: boolean;
}

export interface SimplestreamsServer {
  /** https://127.0.0.1:<port> (no trailing slash). */
  url: string;
  /** PEM of the server's self-signed certificate: trust it as a CA. */
  ca: string;
  fingerprint: string;
  requests: ServedRequest[];
  /** Requests for a path since the start (or since `requests` was emptied). */
  count: (path: string) => number;
  setFile: (path: string, body: Buffer | string) => void;
  deleteFile: (path: string) => void;
  setMode: (mode: ServerMode, failStatus?: number) => void;
  /** Stops listening (connections are refused) until goOnline(). */
  goOffline: () => Promise<void>;
  goOnline: () => Promise<void>;
  close: () => Promise<void>;
}

interface Reply {
  status: number;
  body?: Buffer;
  headers?: Record<string, string>;
  gzip?: boolean;
}

interface Served {
  body: Buffer;
  /** The body gzip-encoded, made when first asked for. */
  gzipped?: Buffer;
  etag: string;
  /** Whole seconds: HTTP dates have no finer resolution. */
  modified: number;
}

/** Accept-Encoding names gzip (or *) without q=0. */
function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [name = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const q = params.find((param) => param.startsWith('q='));
    return (name === 'gzip' || name === '*') && (q === undefined || Number(q.slice(2)) > 0);
  });
}

const GARBAGE = Buffer.from('<html><body>Welcome to nginx!</body></html>\n');

function served(body: Buffer | string, modified: number): Served {
  const data = Buffer.from(body);
  const etag = `"${createHash('sha256').update(data).digest('hex').slice(0, 32)}"`;
  return { body: data, etag, modified };
}

function notModified(
  request: { headers: Record<string, string | string[] | undefined> },
  file: Served,
) {
  const match = request.headers['if-none-match'];
  if (typeof match === 'string')
    return (
      match === '*' || match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)
    );
  const since = request.headers['if-modified-since'];
  if (typeof since !== 'string') return false;
  const time = Date.parse(since);
  return !Number.isNaN(time) && file.modified * 1000 <= time;
}

/** Writes `body` at `rate` bytes a second, a slice every few milliseconds. */
function pace(response: ServerResponse, body: Buffer, rate: number): void {
  const start = performance.now();
  let sent = 0;
  const next = () => {
    if (response.destroyed) return;
    const due = Math.min(body.length, Math.ceil(((performance.now() - start) / 1000) * rate));
    if (due > sent) response.write(body.subarray(sent, due));
    sent = Math.max(sent, due);
    if (sent === body.length) response.end();
    else setTimeout(next, 4);
  };
  next();
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startSimplestreamsServer(
  options: SimplestreamsServerOptions,
): Promise<SimplestreamsServer> {
  const { certificate, key } =
    options.identity ??
    (await createSelfSignedCertificate({
      commonName: '127.0.0.1',
      usage: 'server',
      hosts: ['127.0.0.1'],
    }));
  const fingerprint = certificateFingerprint(certificate);
  const start = Math.floor((options.lastModified?.getTime() ?? Date.now()) / 1000);
  const files = new Map<string, Served>();
  for (const [path, body] of options.files) files.set(path, served(body, start));
  const requests: ServedRequest[] = [];
  let mode: ServerMode = 'normal';
  let failStatus = 500;
  const sockets = new Set<Socket>();

  const respond = (method: string, file: Served | undefined, request: IncomingMessage): Reply => {
    if (method !== 'GET' && method !== 'HEAD') return { status: 405 };
    if (mode === 'status')
      return { status: failStatus, body: Buffer.from(`error ${failStatus}\n`) };
    if (file === undefined) return { status: 404, body: Buffer.from('404 page not found\n') };
    if (mode === 'garbage')
      return { status: 200, body: GARBAGE, headers: { 'Content-Type': 'text/html' } };
    const headers = {
      ETag: file.etag,
      'Last-Modified': new Date(file.modified * 1000).toUTCString(),
      'Cache-Control': 'max-age=0',
    };
    if (notModified(request, file)) return { status: 304, headers };
    if (options.gzip === true && acceptsGzip(request.headers['accept-encoding']))
      return {
        status: 200,
        body: (file.gzipped ??= gzipSync(file.body, { level: 1 })),
        headers: {
          ...headers,
          // nginx weakens the ETag of what it compresses.
          ETag: `W/${file.etag}`,
          'Content-Type': 'application/octet-stream',
          'Content-Encoding': 'gzip',
          Vary: 'Accept-Encoding',
        },
        gzip: true,
      };
    return {
      status: 200,
      body: file.body,
      headers: { ...headers, 'Content-Type': 'application/octet-stream' },
    };
  };

  const server = createServer({ cert: certificate, key }, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://127.0.0.1');
    const path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const conditional =
      request.headers['if-none-match'] !== undefined ||
      request.headers['if-modified-since'] !== undefined;
    const reply = respond(request.method ?? 'GET', files.get(path), request);
    const sent = request.method === 'HEAD' || reply.body === undefined ? 0 : reply.body.length;
    requests.push({
      method: request.method ?? 'GET',
      path,
      status: reply.status,
      conditional,
      bytes: sent,
      gzip: reply.gzip === true,
    });
    response.writeHead(reply.status, {
      ...reply.headers,
      ...(reply.body ? { 'Content-Length': reply.body.length } : {}),
    });
    if (sent > 0 && reply.body !== undefined && options.bytesPerSecond !== undefined)
      pace(response, reply.body, options.bytesPerSecond);
    else response.end(sent > 0 ? reply.body : undefined);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const port = await listen(server, 0);
  let online = true;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!online) {
        resolve();
        return;
      }
      online = false;
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  return {
    url: `https://127.0.0.1:${port}`,
    ca: certificate,
    fingerprint,
    requests,
    count: (path) => requests.filter((entry) => entry.path === path).length,
    setFile: (path, body) => {
      // Later than any earlier version, so If-Modified-Since sees the change.
      const previous = files.get(path)?.modified ?? 0;
      files.set(path, served(body, Math.max(previous + 1, Math.floor(Date.now() / 1000))));
    },
    deleteFile: (path) => files.delete(path),
    setMode: (next, status = 500) => {
      mode = next;
      failStatus = status;
    },
    goOffline: stop,
    goOnline: async () => {
      if (online) return;
      await listen(server, port);
      online = true;
    },
    close: stop,
  };
}
