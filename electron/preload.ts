/** Exposes exactly the contract (and a dropped file's path), as `window.hangar`; nothing else crosses. */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { EventListener, EventMessage } from '../shared/contract.js';
import { buildFacade, isEventName } from '../shared/contract-names.js';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL } from './ipc-channels.js';

const facade = buildFacade((name, input) => ipcRenderer.invoke(CALL_CHANNEL_PREFIX + name, input));

contextBridge.exposeInMainWorld('hangar', {
  ...facade,
  // Dropped files are imported by path; their bytes never cross IPC.
  pathForFile: (file: File) => webUtils.getPathForFile(file),
  subscribe(listener: EventListener) {
    const forward = (_event: unknown, message: EventMessage) => {
      if (isEventName(message.event)) listener(message);
    };
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => void ipcRenderer.off(EVENT_CHANNEL, forward);
  },
});
