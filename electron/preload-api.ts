/**
 * The preload's facade, built from stand-in-able pieces of Electron's
 * renderer API so preload-api.test.ts can check exactly what the page gets:
 * one function per contract call, `subscribe` for the contract's events, and
 * a dropped file's path. Never a generic `invoke(channel, …)`, never an Electron object.
 */
import type { EventListener, EventMessage, PreloadApi } from '../shared/contract.js';
import { buildFacade, isEventName } from '../shared/contract-names.js';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL } from './ipc-channels.js';

type IpcListener = (event: unknown, message: unknown) => void;

export interface PreloadElectron {
  contextBridge: { exposeInMainWorld: (key: string, api: PreloadApi) => void };
  ipcRenderer: {
    invoke: (channel: string, input: unknown) => Promise<unknown>;
    on: (channel: string, listener: IpcListener) => unknown;
    off: (channel: string, listener: IpcListener) => unknown;
  };
  webUtils: { getPathForFile: (file: File) => string };
}

/** The name of the page's global: `window.hangar`. */
export const PRELOAD_GLOBAL = 'hangar';

function isEventMessage(message: unknown): message is EventMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    'event' in message &&
    isEventName(message.event) &&
    'payload' in message
  );
}

export function buildPreloadApi({ ipcRenderer, webUtils }: PreloadElectron): PreloadApi {
  // The main process answers every call with an Envelope (electron/ipc.ts).
  const facade = buildFacade((name, input) =>
    ipcRenderer.invoke(CALL_CHANNEL_PREFIX + name, input),
  );
  return {
    ...(facade as unknown as Omit<PreloadApi, 'subscribe' | 'pathForFile'>),
    // Dropped files are imported by path; their bytes never cross IPC.
    pathForFile: (file: File) => webUtils.getPathForFile(file),
    subscribe(listener: EventListener) {
      const forward: IpcListener = (_event, message) => {
        if (isEventMessage(message)) listener(message);
      };
      ipcRenderer.on(EVENT_CHANNEL, forward);
      return () => void ipcRenderer.off(EVENT_CHANNEL, forward);
    },
  };
}

export function exposeHangar(electron: PreloadElectron): void {
  electron.contextBridge.exposeInMainWorld(PRELOAD_GLOBAL, buildPreloadApi(electron));
}
