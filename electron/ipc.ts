/**
 * IPC transport: one handler per contract call, only for our own window's page.
 * Written against the few members of Electron's objects it uses, so ipc.test.ts
 * drives it with stand-ins; main.ts passes the real ipcMain and window.
 */
import {
  callNames,
  type EventListener,
  type Handlers,
  type Unsubscribe,
} from '../shared/contract.js';
import type { Envelope } from '../shared/errors.js';
import { dispatch } from './dispatch.js';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL } from './ipc-channels.js';

/** What an `ipcMain.handle` listener reads of its event. */
export interface InvokeEvent {
  sender: { id: number };
  senderFrame: { url: string } | null;
}

export interface IpcMainLike {
  handle: (
    channel: string,
    listener: (event: InvokeEvent, input: unknown) => Promise<Envelope<unknown>>,
  ) => void;
  removeHandler: (channel: string) => void;
}

export interface AppWindow {
  webContents: { id: number; send: (channel: string, message: unknown) => void };
  isDestroyed: () => boolean;
}

export interface IpcServices {
  handlers: Handlers;
  events: { subscribe: (listener: EventListener) => Unsubscribe };
}

const REFUSED: Envelope<unknown> = {
  ok: false,
  error: { code: 'internal', message: 'Refused a call from an unknown page.' },
};

/** The page's address without its fragment or query (the app keeps its state in the fragment). */
function documentUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    parsed.hash = '';
    parsed.search = '';
    return parsed.href;
  } catch {
    return undefined;
  }
}

export function registerIpc(
  ipcMain: IpcMainLike,
  hangar: IpcServices,
  window: AppWindow,
  rendererUrl: string,
): () => void {
  const page = documentUrl(rendererUrl);
  const trusted = (event: InvokeEvent) =>
    !window.isDestroyed() &&
    event.sender.id === window.webContents.id &&
    event.senderFrame !== null &&
    page !== undefined &&
    documentUrl(event.senderFrame.url) === page;

  for (const name of callNames) {
    ipcMain.handle(CALL_CHANNEL_PREFIX + name, (event, input) =>
      trusted(event) ? dispatch(hangar.handlers, name, input, 'ipc') : Promise.resolve(REFUSED),
    );
  }
  const unsubscribe = hangar.events.subscribe((message) => {
    if (!window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, message);
  });
  return () => {
    unsubscribe();
    for (const name of callNames) ipcMain.removeHandler(CALL_CHANNEL_PREFIX + name);
  };
}
