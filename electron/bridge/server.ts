/**
 * Web mode: the renderer in a browser, served with the same handlers and
 * events as Electron's IPC. Bound to 127.0.0.1 only; every request must
 * carry the per-run token (the link's `?token=` becomes an HttpOnly cookie);
 * Host is checked against DNS rebinding and Origin against other sites.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import { WebSocketServer } from 'ws';
import { streams } from '../../shared/contract.js';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.js';
import { HangarError, type Envelope } from '../../shared/errors.js';
import { dispatch, parseInput } from '../dispatch.js';
import type { Hangar } from '../hangar.js';
import type { DownloadSink } from '../images/export.js';
import { UploadRefused } from '../images/staged-uploads.js';

export interface BridgeOptions {
  hangar: Pick<Hangar, 'handlers' | 'events' | 'uploads' | 'downloads'>;
  /** The built renderer (dist/renderer). */
  staticDir: string;
  /** 0 or absent picks a free port. */
  port?: number;
  token?: string;
}

export interface Bridge {
  /** The URL to open, carrying the token. */
  url: string;
  origin: string;
  token: string;
  close: () => Promise<void>;
}

const COOKIE = 'hangar_token';
/**
 * A JSON body (an upload's reservation) or a call's frame on the socket: the largest input (an
 * image document with its properties) is far smaller. A frame beyond this closes the socket (1009).
 */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Answers and events a page does not read are not queued without end: the socket is dropped. */
const MAX_WS_BUFFERED_BYTES = 16 * 1024 * 1024;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

function sameSecret(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function send(
  response: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}

class BodyTooLarge extends Error {}

/** A call's body, refused past MAX_BODY_BYTES, announced or not. */
async function readBody(request: IncomingMessage): Promise<string> {
  const announced = Number(request.headers['content-length'] ?? 0);
  if (announced > MAX_BODY_BYTES) throw new BodyTooLarge();
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers and drops the connection: the rest of a refused body is not read. */
function refuseBody(response: ServerResponse, status: number, body: string, type?: string): void {
  response.shouldKeepAlive = false;
  send(response, status, body, type);
  response.once('finish', () => response.socket?.destroy());
}

function sendEnvelope(response: ServerResponse, status: number, envelope: Envelope<unknown>): void {
  send(response, status, JSON.stringify(envelope), 'application/json');
}

/**
 * The file a request target names under the renderer directory, or nothing.
 * It works on the target as it arrived (not as `new URL` would clean it up):
 * only origin-form paths, decoded once; `.`/`..` segments, backslashes, NUL
 * and anything still percent-encoded after one decoding are refused, and the
 * result must stay inside the directory.
 */
export function staticFile(staticDir: string, target: string): string | undefined {
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  const rawPath = target.split(/[?#]/, 1)[0] ?? '/';
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (/[\\\0]|%[0-9a-f]{2}/i.test(path)) return undefined;
  const segments = path.slice(1).split('/');
  if (segments.some((segment) => segment === '..' || segment === '.')) return undefined;
  const file = resolve(staticDir, path === '/' ? 'index.html' : path.slice(1));
  const inside = relative(staticDir, file);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
  return file;
}

/** The path of a request target, without its query, as sent. */
/** A call frame from the page, or undefined when it is not one (the socket is then closed). */
function parseCallFrame(text: string): { id: number; call: string; input: unknown } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, call, input } = value as { id?: unknown; call?: unknown; input?: unknown };
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || typeof call !== 'string')
    return undefined;
  return { id, call, input: input ?? {} };
}

function targetPath(request: IncomingMessage): string {
  return (request.url ?? '/').split(/[?#]/, 1)[0] ?? '/';
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const { hangar } = options;
  const staticDir = resolve(options.staticDir);
  let allowedHosts = new Set<string>();

  const hostAllowed = (request: IncomingMessage) => allowedHosts.has(request.headers.host ?? '');
  const originAllowed = (origin: string | undefined) =>
    origin !== undefined &&
    allowedHosts.has(origin.replace(/^http:\/\//, '')) &&
    origin.startsWith('http://');
  const authorized = (request: IncomingMessage) => {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    return sameSecret(bearer, token) || sameSecret(cookieValue(request, COOKIE), token);
  };

  async function serveStatic(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = staticFile(staticDir, request.url ?? '/');
    const info = path === undefined ? undefined : await stat(path).catch(() => undefined);
    if (path === undefined || !info?.isFile()) {
      send(response, 404, 'Not found');
      return;
    }
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
      'content-length': info.size,
      'content-security-policy': `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': path.endsWith('/index.html') ? 'no-store' : 'private, max-age=3600',
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(path).pipe(response);
  }

  /** A JSON body parsed, or an answer sent (413 past the limit, 400 when it is not JSON). */
  async function jsonBody(
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<{ value: unknown } | undefined> {
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      send(response, 415, 'Calls are JSON.');
      return undefined;
    }
    try {
      return { value: JSON.parse((await readBody(request)) || '{}') as unknown };
    } catch (error) {
      if (error instanceof BodyTooLarge)
        refuseBody(
          response,
          413,
          `Request body too large: calls take at most ${MAX_BODY_BYTES / 1024} KiB of JSON.`,
        );
      else
        send(
          response,
          400,
          `Invalid request body: ${error instanceof Error ? error.message : String(error)}`,
        );
      return undefined;
    }
  }

  /**
   * A call over HTTP, for answers too big to share the socket: a chunk of a window's copy of a
   * list (~460 KB) took Chromium's websocket 11-80 ms, and the small answers behind it (a
   * keystroke's rows) waited; a fetch brings it in a few, beside the socket. Same dispatch.
   */
  async function answerCall(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await jsonBody(request, response);
    if (body === undefined) return;
    const { call, input } = (body.value ?? {}) as { call?: unknown; input?: unknown };
    if (typeof call !== 'string') {
      send(response, 400, 'A call is {"call": <name>, "input": …}.');
      return;
    }
    sendEnvelope(response, 200, await dispatch(hangar.handlers, call, input ?? {}, 'web'));
  }

  /**
   * A dropped file in two steps. POST /api/upload with {name, size} (checked
   * against the contract's schema like any call) reserves it, or says why not
   * (too big, too many at once) before a byte is sent. PUT /api/upload/<id>
   * then sends exactly that many bytes, which go straight into the import
   * that takes the id (images.importFiles with {upload: id}); the PUT is
   * answered when that import ended, with its outcome.
   */
  async function reserveUpload(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await jsonBody(request, response);
    if (body === undefined) return;
    try {
      const { name, size } = parseInput('upload', streams.upload.input, body.value);
      const id = await hangar.uploads.reserve(name, size);
      sendEnvelope(response, 200, { ok: true, value: { upload: id } });
    } catch (error) {
      sendEnvelope(response, error instanceof UploadRefused ? error.httpStatus : 200, {
        ok: false,
        error: HangarError.from(error).toData(),
      });
    }
  }

  async function receiveUpload(
    id: string,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    if (request.headers['content-type'] !== 'application/octet-stream') {
      refuseBody(response, 415, 'Uploads are application/octet-stream.');
      return;
    }
    if (request.headers['content-length'] === undefined) {
      refuseBody(response, 411, 'Uploads carry their Content-Length.');
      return;
    }
    try {
      await hangar.uploads.receive(id, request);
      sendEnvelope(response, 200, { ok: true, value: { upload: id } });
    } catch (error) {
      const envelope = { ok: false as const, error: HangarError.from(error).toData() };
      const status = error instanceof UploadRefused ? error.httpStatus : 200;
      // A request is destroyed once read to its end; only a closed connection has no one to tell.
      if (response.headersSent || (response.socket?.destroyed ?? true)) return;
      if (error instanceof UploadRefused) {
        refuseBody(response, status, JSON.stringify(envelope), 'application/json');
        return;
      }
      if (request.readableEnded) {
        sendEnvelope(response, status, envelope);
        return;
      }
      // The import stopped reading (a refused file, a cancel): the rest of the body is
      // discarded so that the browser, still sending, reads the answer rather than a reset.
      request.unpipe();
      request.resume();
      request.once('end', () => sendEnvelope(response, status, envelope));
    }
  }

  /**
   * `lxc image export` as a browser download: an operation (in the panel, with
   * progress and Cancel) whose bytes stream into this response. The last
   * bytes go only once the fingerprint matched; otherwise the connection is
   * cut and the browser marks the download failed.
   */
  function serveExport(request: IncomingMessage, response: ServerResponse): void {
    const query = new URLSearchParams((request.url ?? '').split('?')[1] ?? '');
    let input;
    try {
      input = parseInput('images.exportDownload', streams['images.exportDownload'].input, {
        remote: query.get('remote') ?? undefined,
        project: query.get('project') ?? undefined,
        fingerprint: query.get('fingerprint') ?? undefined,
      });
    } catch (error) {
      send(response, 400, HangarError.from(error).message);
      return;
    }
    const stopped = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) stopped.abort();
    });
    const closed = new Promise<void>((resolve) => response.once('close', resolve));
    const sink: DownloadSink = {
      signal: stopped.signal,
      start: ({ name, size }) => {
        response.writeHead(200, {
          'content-type': name.endsWith('.tar') ? 'application/x-tar' : 'application/octet-stream',
          'content-length': size,
          'content-disposition': `attachment; filename="${name}"`,
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-store',
        });
      },
      write: async (chunk) => {
        if (stopped.signal.aborted)
          throw new HangarError('cancelled', 'The browser stopped the download.');
        if (response.write(chunk)) return;
        await Promise.race([new Promise((resolve) => response.once('drain', resolve)), closed]);
      },
      end: async () => {
        response.end();
        await closed;
      },
      abort: (error) => {
        if (!response.headersSent)
          send(
            response,
            error.code === 'not-found' ? 404 : error.code === 'invalid-input' ? 400 : 502,
            error.message,
          );
        else response.destroy();
      },
    };
    hangar.downloads.exportImage(input, sink);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!hostAllowed(request)) {
      send(response, 421, 'Unexpected Host header.');
      return;
    }
    const landing = /^\/\?token=([^&#]*)$/.exec(request.url ?? '')?.[1];
    if (landing !== undefined && sameSecret(landing, token)) {
      // Trade the link's token for a cookie so it leaves the address bar and history.
      response.writeHead(303, {
        location: '/',
        'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
      });
      response.end();
      return;
    }
    if (!authorized(request)) {
      send(
        response,
        401,
        'This Hangar link is missing its token. Open the URL Hangar printed when it started.',
      );
      return;
    }
    const path = targetPath(request);
    const origin = request.headers.origin;
    // Browsers send Origin on every POST/PUT and on cross-site requests; only our page's passes.
    if (origin !== undefined && !originAllowed(origin)) {
      refuseBody(response, 403, 'Cross-origin requests are refused.');
      return;
    }
    if (path === '/api/upload' || path.startsWith('/api/upload/')) {
      const id = /^\/api\/upload\/([0-9a-f-]{36})$/.exec(path)?.[1];
      if (path === '/api/upload' && request.method === 'POST')
        await reserveUpload(request, response);
      else if (id !== undefined && request.method === 'PUT')
        await receiveUpload(id, request, response);
      else
        refuseBody(response, 405, 'Reserve an upload with POST /api/upload, then PUT its bytes.');
      return;
    }
    if (path === '/api/call') {
      if (request.method !== 'POST') {
        refuseBody(
          response,
          405,
          'Calls over HTTP are POST /api/call {"call": <name>, "input": …}.',
        );
        return;
      }
      await answerCall(request, response);
      return;
    }
    if (path === '/api/export') {
      // A download is a navigation (no Origin): a browser says where it came from.
      const site = request.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        send(response, 403, "Downloads start from Hangar's own page.");
        return;
      }
      if (request.method !== 'GET') {
        send(response, 405, 'Downloads are GET requests.');
        return;
      }
      serveExport(request, response);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      refuseBody(response, 405, 'Method not allowed.');
      return;
    }
    await serveStatic(request, response);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent)
        send(response, 500, error instanceof Error ? error.message : 'Internal error');
      else response.destroy();
    });
  });

  /**
   * The page's one socket (/api/socket) carries its calls and Hangar's events: a call is a frame
   * {"id", "call", "input"} answered by {"id", "envelope"}, an event is {"event", "payload"}.
   * A call over a socket costs about a millisecond on loopback, a fetch several: what a
   * keystroke in a 20,000-row filter waits for.
   */
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  server.on('upgrade', (request, socket, head) => {
    if (
      !hostAllowed(request) ||
      request.url !== '/api/socket' ||
      !authorized(request) ||
      // Browsers always send Origin on websockets; only our own page may connect.
      (request.headers.origin !== undefined && !originAllowed(request.headers.origin))
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      const post = (message: unknown) => {
        // A page that stopped reading gets dropped rather than queued for without end.
        if (ws.bufferedAmount > MAX_WS_BUFFERED_BYTES) ws.terminate();
        else if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
      };
      const unsubscribe = hangar.events.subscribe(post);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const frame = isBinary ? undefined : parseCallFrame(data.toString('utf8'));
        if (frame === undefined) {
          ws.close(1007, 'A call is a JSON frame: {"id": <number>, "call": <name>, "input": …}.');
          return;
        }
        // The bridge is the web transport: dispatch refuses it paths on this machine.
        void dispatch(hangar.handlers, frame.call, frame.input, 'web').then((envelope) =>
          post({ id: frame.id, envelope }),
        );
      });
      // A frame over maxPayload closes the socket (1009) without taking Hangar down.
      ws.on('error', () => ws.terminate());
      ws.on('close', unsubscribe);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
