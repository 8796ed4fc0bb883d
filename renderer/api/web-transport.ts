/**
 * The web-mode transport: calls are POSTs to the loopback bridge, events
 * arrive on one websocket that reconnects by itself. The bridge's cookie
 * carries the token, so nothing secret lives in page script.
 */
import type { EventListener, EventMessage, HangarTransport } from '../../shared/contract';
import { buildFacade, isEventName } from '../../shared/contract-names';
import type { Envelope } from '../../shared/errors';

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
    return {
      ok: false,
      error: {
        code: 'internal',
        message: 'Hangar is not running: the page lost its connection to it.',
      },
    };
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

  const facade = buildFacade(post) as unknown as Omit<HangarTransport, 'subscribe'>;
  return {
    ...facade,
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
