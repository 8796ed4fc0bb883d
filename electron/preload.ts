/** Exposes exactly the contract (and a dropped file's path) as `window.hangar`; nothing else crosses. */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { exposeHangar } from './preload-api.js';

exposeHangar({ contextBridge, ipcRenderer, webUtils });
