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
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.js';
import { HangarError } from '../../shared/errors.js';
import { dispatch } from '../dispatch.js';
import type { Hangar } from '../hangar.js';

export interface BridgeOptions {
  hangar: Pick<Hangar, 'handlers' | 'events' | 'uploads'>;
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
const MAX_BODY_BYTES = 1024 * 1024;
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

async function readBody(request: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
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

  async function serveStatic(url: URL, response: ServerResponse): Promise<void> {
    const relative =
      url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const path = normalize(join(staticDir, relative));
    if (!path.startsWith(staticDir + sep)) {
      send(response, 404, 'Not found');
      return;
    }
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      send(response, 404, 'Not found');
      return;
    }
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
      'content-length': info.size,
      'content-security-policy': `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': relative === 'index.html' ? 'no-store' : 'private, max-age=3600',
    });
    createReadStream(path).pipe(response);
  }

  /**
   * A dropped file's bytes, streamed to the staging folder (never held in
   * memory); the page then imports it by the id this answers with.
   */
  async function receiveUpload(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST') {
      send(response, 405, 'Uploads are POST requests.');
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !originAllowed(origin)) {
      send(response, 403, 'Cross-origin uploads are refused.');
      return;
    }
    if (request.headers['content-type'] !== 'application/octet-stream') {
      send(response, 415, 'Uploads are application/octet-stream.');
      return;
    }
    const rawName = request.headers['x-hangar-filename'];
    let name = 'upload';
    try {
      if (typeof rawName === 'string') name = decodeURIComponent(rawName);
    } catch {
      // A malformed name is only cosmetic: keep the default.
    }
    const envelope = await hangar.uploads.stage(name, request).then(
      (upload) => ({ ok: true, value: { id: upload.id, name: upload.name, size: upload.size } }),
      (error: unknown) => ({ ok: false, error: HangarError.from(error).toData() }),
    );
    send(response, 200, JSON.stringify(envelope), 'application/json');
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!hostAllowed(request)) {
      send(response, 421, 'Unexpected Host header.');
      return;
    }
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? ''}`);
    if (url.pathname === '/' && sameSecret(url.searchParams.get('token') ?? undefined, token)) {
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
    if (url.pathname === '/api/upload') {
      await receiveUpload(request, response);
      return;
    }
    const call = /^\/api\/call\/([\w.]+)$/.exec(url.pathname)?.[1];
    if (call !== undefined) {
      if (request.method !== 'POST') {
        send(response, 405, 'Calls are POST requests.');
        return;
      }
      const origin = request.headers.origin;
      if (origin !== undefined && !originAllowed(origin)) {
        send(response, 403, 'Cross-origin calls are refused.');
        return;
      }
      if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
        send(response, 415, 'Calls are JSON.');
        return;
      }
      let input: unknown;
      try {
        input = JSON.parse((await readBody(request)) || '{}');
      } catch (error) {
        send(
          response,
          400,
          `Invalid request body: ${error instanceof Error ? error.message : String(error)}`,
        );
        return;
      }
      const envelope = await dispatch(hangar.handlers, call, input);
      send(response, 200, JSON.stringify(envelope), 'application/json');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'Method not allowed.');
      return;
    }
    await serveStatic(url, response);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent)
        send(response, 500, error instanceof Error ? error.message : 'Internal error');
      else response.destroy();
    });
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (request, socket, head) => {
    if (
      !hostAllowed(request) ||
      request.url !== '/api/events' ||
      !authorized(request) ||
      // Browsers always send Origin on websockets; only our own page may listen.
      (request.headers.origin !== undefined && !originAllowed(request.headers.origin))
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      const unsubscribe = hangar.events.subscribe((message) => ws.send(JSON.stringify(message)));
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
