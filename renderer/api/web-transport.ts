/**
 * The web-mode transport: calls and events share one websocket to the
 * loopback bridge (a call is answered in about a millisecond; the few calls
 * with big answers go over HTTP beside it, OVER_HTTP), which
 * reconnects by itself (then the window reads again what it shows: events
 * sent meanwhile are lost). The bridge's cookie
 * carries the token, so nothing secret lives in page script. Files go up as
 * uploads (reserved, then streamed into the import) and exports come down as downloads: the
 * bridge never takes a path on the machine from a page.
 */
import type {
  EventListener,
  EventMessage,
  HangarTransport,
  ImportFileRef,
  StreamInput,
} from '../../shared/contract';
import { buildFacade, isEventName } from '../../shared/contract-names';
import type { Envelope } from '../../shared/errors';

const lost = (what: string): Envelope<never> => ({
  ok: false,
  error: { code: 'internal', message: `${what}: the page lost its connection to Hangar.` },
});

/** The bridge answers uploads with an envelope, whatever its HTTP status (413, 429, 507…). */
async function envelopeOf<T>(response: Response, what: string): Promise<Envelope<T>> {
  if ((response.headers.get('content-type') ?? '').startsWith('application/json'))
    return (await response.json()) as Envelope<T>;
  return {
    ok: false,
    error: {
      code: 'internal',
      message: `Hangar refused ${what} (HTTP ${response.status}): ${await response.text()}`,
    },
  };
}

/**
 * Calls whose answers are big (a chunk of a window's copy of a list, ~460 KB): they go over HTTP,
 * beside the socket, whose small answers (a keystroke's rows) would otherwise wait behind them.
 */
const OVER_HTTP = new Set(['images.rows']);

async function callOverHttp(name: string, input: unknown): Promise<Envelope<unknown>> {
  try {
    return await envelopeOf(
      await fetch('/api/call', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ call: name, input: input ?? {} }),
        credentials: 'same-origin',
      }),
      name,
    );
  } catch {
    return lost(`Could not call ${name}`);
  }
}

/**
 * Reserves the file (refused at once when it is too big or one too many),
 * then starts sending its bytes: they go straight into the import that takes
 * the returned ref, and the PUT is answered when that import ended (its
 * outcome is also the operation's, shown in the panel).
 */
async function upload(file: File): Promise<Envelope<ImportFileRef>> {
  let reserved: Envelope<{ upload: string }>;
  try {
    reserved = await envelopeOf(
      await fetch('/api/upload', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: file.name, size: file.size }),
        credentials: 'same-origin',
      }),
      file.name,
    );
  } catch {
    return lost(`Could not send ${file.name}`);
  }
  if (!reserved.ok) return reserved;
  const id = reserved.value.upload;
  void fetch(`/api/upload/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: file,
    credentials: 'same-origin',
  })
    .then((response) => envelopeOf<ImportFileRef>(response, file.name))
    .then((answer) => {
      if (!answer.ok) console.warn(`Hangar did not import ${file.name}: ${answer.error.message}`);
    })
    .catch(() => console.warn(`Could not send ${file.name}: the page lost its connection.`));
  return { ok: true, value: { upload: id } };
}

/** The browser downloads the export itself; its progress is also an operation in the panel. */
function exportDownload(input: StreamInput<'images.exportDownload'>): Promise<Envelope<null>> {
  const query = new URLSearchParams({ remote: input.remote, fingerprint: input.fingerprint });
  if (input.project !== undefined) query.set('project', input.project);
  const link = document.createElement('a');
  link.href = `/api/export?${query.toString()}`;
  link.download = '';
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  return Promise.resolve({ ok: true, value: null });
}

interface Answer {
  id: number;
  envelope: Envelope<unknown>;
}

export function createWebTransport(): HangarTransport {
  const listeners = new Set<EventListener>();
  const resyncs = new Set<() => void>();
  /** A socket with listeners was lost: events sent until the next one opens are gone. */
  let missedEvents = false;
  /** Calls sent (or waiting for the socket to open), by id. */
  const pending = new Map<number, { name: string; resolve: (answer: Envelope<unknown>) => void }>();
  const waiting: string[] = [];
  let nextId = 1;
  let socket: WebSocket | undefined;
  let retryDelay = 250;

  const connect = () => {
    const opened = new WebSocket(
      `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/socket`,
    );
    socket = opened;
    opened.addEventListener('open', () => {
      retryDelay = 250;
      for (const frame of waiting.splice(0)) opened.send(frame);
      if (missedEvents) {
        missedEvents = false;
        for (const resync of resyncs) resync();
      }
    });
    opened.addEventListener('message', (message: MessageEvent<string>) => {
      const parsed = JSON.parse(message.data) as EventMessage | Answer;
      if ('id' in parsed) {
        const call = pending.get(parsed.id);
        pending.delete(parsed.id);
        call?.resolve(parsed.envelope);
        return;
      }
      if (!isEventName(parsed.event)) return;
      for (const listener of listeners) listener(parsed);
    });
    opened.addEventListener('close', () => {
      if (socket !== opened) return;
      socket = undefined;
      // Calls in flight have no answer coming: they fail, as a request cut off does.
      waiting.length = 0;
      for (const [id, call] of pending) {
        pending.delete(id);
        call.resolve(lost(`Could not call ${call.name}`));
      }
      if (listeners.size === 0) return;
      missedEvents = true;
      // A call meanwhile may have connected already.
      setTimeout(() => {
        if (socket === undefined) connect();
      }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 5000);
    });
  };

  const socketCall = (name: string, input: unknown): Promise<Envelope<unknown>> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, { name, resolve });
      const frame = JSON.stringify({ id, call: name, input: input ?? {} });
      if (socket === undefined) connect();
      if (socket?.readyState === WebSocket.OPEN) socket.send(frame);
      else waiting.push(frame);
    });
  const call = (name: string, input: unknown): Promise<Envelope<unknown>> =>
    OVER_HTTP.has(name) ? callOverHttp(name, input) : socketCall(name, input);

  const facade = buildFacade(call) as unknown as Omit<
    HangarTransport,
    'subscribe' | 'onResync' | 'kind' | 'upload' | 'exportDownload'
  >;
  return {
    ...facade,
    kind: 'web',
    upload,
    exportDownload,
    onResync(callback) {
      resyncs.add(callback);
      return () => {
        resyncs.delete(callback);
      };
    },
    subscribe(listener) {
      listeners.add(listener);
      if (socket === undefined) connect();
      return () => {
        listeners.delete(listener);
        // A listener replaced in the same task (a React effect re-running) must not
        // drop the socket: events sent while it reconnects would be lost.
        queueMicrotask(() => {
          if (listeners.size === 0 && pending.size === 0) socket?.close();
        });
      };
    },
  };
}
