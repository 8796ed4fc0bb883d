/** IPC transport: one handler per contract call, only for our own window's page. */
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent } from 'electron';
import { callNames } from '../shared/contract.js';
import type { Envelope } from '../shared/errors.js';
import { dispatch } from './dispatch.js';
import type { Hangar } from './hangar.js';

import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL } from './ipc-channels.js';

export function registerIpc(
  ipcMain: IpcMain,
  hangar: Hangar,
  window: BrowserWindow,
  rendererUrl: string,
): () => void {
  const trusted = (event: IpcMainInvokeEvent) =>
    event.sender.id === window.webContents.id &&
    event.senderFrame?.url.startsWith(rendererUrl) === true;

  for (const name of callNames) {
    ipcMain.handle(
      CALL_CHANNEL_PREFIX + name,
      (event, input: unknown): Promise<Envelope<unknown>> => {
        if (!trusted(event)) {
          return Promise.resolve({
            ok: false,
            error: { code: 'internal', message: 'Refused a call from an unknown page.' },
          });
        }
        return dispatch(hangar.handlers, name, input);
      },
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
