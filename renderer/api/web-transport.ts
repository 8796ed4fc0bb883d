/**
 * The web-mode transport: calls are POSTs to the loopback bridge, events
 * arrive on one websocket that reconnects by itself. The bridge's cookie
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

async function post(name: string, input: unknown): Promise<Envelope<unknown>> {
  let response: Response;
  try {
    response = await fetch(`/api/call/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input ?? {}),
      credentials: 'same-origin',
    });
  } catch {
    return lost(`Could not call ${name}`);
  }
  if (!response.ok) {
    return {
      ok: false,
      error: {
        code: 'internal',
        message: `Hangar refused the call (HTTP ${response.status}): ${await response.text()}`,
      },
    };
  }
  return (await response.json()) as Envelope<unknown>;
}

export function createWebTransport(): HangarTransport {
  const listeners = new Set<EventListener>();
  let socket: WebSocket | undefined;
  let retryDelay = 250;

  const connect = () => {
    socket = new WebSocket(
      `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`,
    );
    socket.addEventListener('open', () => {
      retryDelay = 250;
    });
    socket.addEventListener('message', (message: MessageEvent<string>) => {
      const parsed = JSON.parse(message.data) as EventMessage;
      if (!isEventName(parsed.event)) return;
      for (const listener of listeners) listener(parsed);
    });
    const opened = socket;
    socket.addEventListener('close', () => {
      if (socket !== opened) return;
      socket = undefined;
      if (listeners.size === 0) return;
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 5000);
    });
  };

  const facade = buildFacade(post) as unknown as Omit<
    HangarTransport,
    'subscribe' | 'kind' | 'upload' | 'exportDownload'
  >;
  return {
    ...facade,
    kind: 'web',
    upload,
    exportDownload,
    subscribe(listener) {
      listeners.add(listener);
      if (socket === undefined) connect();
      return () => {
        listeners.delete(listener);
        // A listener replaced in the same task (a React effect re-running) must not
        // drop the socket: events sent while it reconnects would be lost.
        queueMicrotask(() => {
          if (listeners.size === 0) socket?.close();
        });
      };
    },
  };
}
