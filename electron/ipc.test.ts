/**
 * The IPC glue, driven with stand-ins for ipcMain and the window (no Electron
 * binary): every channel refuses another page and input its schema rejects.
 */
import { describe, expect, it } from 'vitest';
import {
  callNames,
  type EventListener,
  type EventMessage,
  type Handlers,
} from '../shared/contract.js';
import type { Envelope } from '../shared/errors.js';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL } from './ipc-channels.js';
import { registerIpc, type InvokeEvent, type IpcMainLike } from './ipc.js';

const PAGE = 'file:///opt/hangar/resources/app.asar/dist/renderer/index.html';
const WINDOW_ID = 7;

type Listener = Parameters<IpcMainLike['handle']>[1];

function setUp() {
  const channels = new Map<string, Listener>();
  const ipcMain: IpcMainLike = {
    handle: (channel, listener) => {
      expect(channels.has(channel)).toBe(false);
      channels.set(channel, listener);
    },
    removeHandler: (channel) => void channels.delete(channel),
  };
  const called: string[] = [];
  const handlers = Object.fromEntries(
    callNames.map((name) => [
      name,
      (input: unknown) => {
        called.push(name);
        return Promise.resolve({ echoed: input });
      },
    ]),
  ) as unknown as Handlers;
  const listeners = new Set<EventListener>();
  const events = {
    subscribe: (listener: EventListener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
  const sent: { channel: string; message: unknown }[] = [];
  const window = {
    destroyed: false,
    webContents: {
      id: WINDOW_ID,
      send: (channel: string, message: unknown) => void sent.push({ channel, message }),
    },
    isDestroyed() {
      return this.destroyed;
    },
  };
  const unregister = registerIpc(ipcMain, { handlers, events }, window, PAGE);
  const invoke = (name: string, event: InvokeEvent, input: unknown) => {
    const listener = channels.get(CALL_CHANNEL_PREFIX + name);
    if (listener === undefined) throw new Error(`no handler for ${name}`);
    return listener(event, input);
  };
  return { channels, called, listeners, sent, window, unregister, invoke };
}

const fromPage = (url = `${PAGE}#remote=local&project=default`): InvokeEvent => ({
  sender: { id: WINDOW_ID },
  senderFrame: { url },
});

function expectRefused(envelope: Envelope<unknown>) {
  expect(envelope).toEqual({
    ok: false,
    error: { code: 'internal', message: 'Refused a call from an unknown page.' },
  });
}

describe('registerIpc', () => {
  it('registers one channel per contract call, and nothing else', () => {
    const { channels, unregister } = setUp();
    expect([...channels.keys()].sort()).toEqual(
      callNames.map((name) => CALL_CHANNEL_PREFIX + name).sort(),
    );
    unregister();
    expect(channels.size).toBe(0);
  });

  it.each(callNames)('%s refuses every sender but the main window’s page', async (name) => {
    const { called, invoke, window } = setUp();
    const strangers: InvokeEvent[] = [
      // Another WebContents (a devtools or a second window), even on our page.
      { sender: { id: WINDOW_ID + 1 }, senderFrame: { url: PAGE } },
      // Our WebContents, but another document or origin.
      fromPage('https://example.com/'),
      fromPage('file:///tmp/evil.html'),
      fromPage(`${PAGE}.evil.html`),
      fromPage('file:///opt/hangar/resources/app.asar/dist/renderer/other.html'),
      fromPage('about:blank'),
      fromPage('not a url'),
      // A frame that is gone.
      { sender: { id: WINDOW_ID }, senderFrame: null },
    ];
    for (const event of strangers) expectRefused(await invoke(name, event, {}));
    window.destroyed = true;
    expectRefused(await invoke(name, fromPage(), {}));
    expect(called).toEqual([]);
  });

  it.each(callNames)('%s refuses input its schema rejects, before any handler', async (name) => {
    const { called, invoke } = setUp();
    for (const input of [undefined, null, 42, 'x', [], { unexpected: true }]) {
      const envelope = await invoke(name, fromPage(), input);
      expect(envelope.ok).toBe(false);
      if (!envelope.ok) expect(envelope.error.code).toBe('invalid-input');
    }
    expect(called).toEqual([]);
  });

  it('runs a valid call from the main window’s page (its state in the fragment)', async () => {
    const { called, invoke } = setUp();
    expect(await invoke('remotes.list', fromPage(), {})).toEqual({
      ok: true,
      value: { echoed: {} },
    });
    expect(await invoke('operations.cancel', fromPage(PAGE), { id: 'op-1' })).toEqual({
      ok: true,
      value: { echoed: { id: 'op-1' } },
    });
    expect(called).toEqual(['remotes.list', 'operations.cancel']);
  });

  it('forwards events to the window until it is destroyed or unregistered', () => {
    const { listeners, sent, window, unregister } = setUp();
    const message: EventMessage = { event: 'remotes.changed', payload: { remotes: [] } };
    for (const listener of listeners) listener(message);
    expect(sent).toEqual([{ channel: EVENT_CHANNEL, message }]);
    window.destroyed = true;
    for (const listener of listeners) listener(message);
    expect(sent).toHaveLength(1);
    unregister();
    expect(listeners.size).toBe(0);
  });
});
