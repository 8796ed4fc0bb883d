/**
 * The preload, driven with stand-ins for contextBridge, ipcRenderer and
 * webUtils: the page gets exactly the contract's calls and events, and a
 * dropped file's path; nothing of Electron crosses.
 */
import { describe, expect, it } from 'vitest';
import { callNames, eventNames, type EventMessage } from '../shared/contract.js';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL } from './ipc-channels.js';
import { PRELOAD_GLOBAL, exposeHangar, type PreloadElectron } from './preload-api.js';

type IpcListener = (event: unknown, message: unknown) => void;

function expose() {
  const exposed = new Map<string, unknown>();
  const invoked: { channel: string; input: unknown }[] = [];
  const listeners = new Map<string, Set<IpcListener>>();
  const electron: PreloadElectron = {
    contextBridge: { exposeInMainWorld: (key, api) => void exposed.set(key, api) },
    ipcRenderer: {
      invoke: (channel, input) => {
        invoked.push({ channel, input });
        return Promise.resolve({ ok: true, value: channel });
      },
      on: (channel, listener) => {
        const set = listeners.get(channel) ?? new Set();
        set.add(listener);
        listeners.set(channel, set);
      },
      off: (channel, listener) => listeners.get(channel)?.delete(listener),
    },
    webUtils: { getPathForFile: (file) => `/home/user/${file.name}` },
  };
  exposeHangar(electron);
  const api = exposed.get(PRELOAD_GLOBAL) as Record<string, unknown>;
  const emit = (message: unknown) => {
    for (const listener of listeners.get(EVENT_CHANNEL) ?? []) listener({ sender: 'ipc' }, message);
  };
  return { exposed, api, invoked, listeners, emit };
}

const namespaces = [...new Set(callNames.map((name) => name.split('.')[0] ?? ''))].sort();

describe('the preload', () => {
  it('exposes one global, `hangar`, with the contract’s namespaces, subscribe and pathForFile', () => {
    const { exposed, api } = expose();
    expect([...exposed.keys()]).toEqual(['hangar']);
    expect(Object.keys(api).sort()).toEqual([...namespaces, 'pathForFile', 'subscribe'].sort());
    expect(typeof api.subscribe).toBe('function');
    expect(typeof api.pathForFile).toBe('function');
  });

  it('has exactly one function per contract call, each on its own channel', async () => {
    const { api, invoked } = expose();
    const methods = namespaces.flatMap((namespace) => {
      const object = api[namespace] as Record<string, unknown>;
      return Object.entries(object).map(([method, fn]) => {
        expect(typeof fn).toBe('function');
        return `${namespace}.${method}`;
      });
    });
    expect(methods.sort()).toEqual([...callNames].sort());
    for (const name of callNames) {
      const [namespace = '', method = ''] = name.split('.');
      const call = (api[namespace] as Record<string, (input: unknown) => Promise<unknown>>)[method];
      expect(await call?.({ probe: name })).toEqual({
        ok: true,
        value: CALL_CHANNEL_PREFIX + name,
      });
    }
    expect(invoked).toEqual(
      callNames.map((name) => ({ channel: CALL_CHANNEL_PREFIX + name, input: { probe: name } })),
    );
  });

  it('gives no generic invoke, send or Electron object to the page', () => {
    const { api } = expose();
    const keys = [
      ...Object.keys(api),
      ...Object.values(api).flatMap((value) =>
        typeof value === 'object' && value !== null ? Object.keys(value) : [],
      ),
    ];
    for (const forbidden of ['invoke', 'send', 'sendSync', 'on', 'ipcRenderer', 'contextBridge'])
      expect(keys).not.toContain(forbidden);
    for (const value of Object.values(api)) {
      if (typeof value === 'object' && value !== null) {
        for (const member of Object.values(value)) expect(typeof member).toBe('function');
      }
    }
  });

  it('forwards the contract’s events only, and stops when unsubscribed', () => {
    const { api, emit, listeners } = expose();
    const received: EventMessage[] = [];
    const unsubscribe = (api.subscribe as (listener: (m: EventMessage) => void) => () => void)(
      (message) => received.push(message),
    );
    for (const event of eventNames) emit({ event, payload: { n: 1 } });
    emit({ event: 'not.an.event', payload: {} });
    emit({ event: 'remotes.changed' });
    emit(null);
    emit('remotes.changed');
    expect(received.map((message) => message.event)).toEqual([...eventNames]);
    unsubscribe();
    expect(listeners.get(EVENT_CHANNEL)?.size).toBe(0);
    emit({ event: eventNames[0], payload: {} });
    expect(received).toHaveLength(eventNames.length);
  });

  it('gives a dropped file’s path through webUtils', () => {
    const { api } = expose();
    const pathForFile = api.pathForFile as (file: { name: string }) => string;
    expect(pathForFile({ name: 'image.tar.xz' })).toBe('/home/user/image.tar.xz');
  });
});
