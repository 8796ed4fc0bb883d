/**
 * Hangar's main-process services, wired once. Electron's IPC and the web
 * bridge are two transports over the same handlers and event hub.
 */
import type { Handlers } from '../shared/contract.js';
import { EventHub } from './event-hub.js';
import { imageHandlers } from './images/service.js';
import { RemoteRegistry } from './remotes/registry.js';
import { remoteHandlers } from './remotes/service.js';

export interface HangarOptions {
  env: NodeJS.ProcessEnv;
  /** How often an unreachable remote is retried. */
  retryMs?: number;
}

export interface Hangar {
  handlers: Handlers;
  events: EventHub;
  close: () => Promise<void>;
}

export function createHangar(options: HangarOptions): Hangar {
  const events = new EventHub();
  const remotes = new RemoteRegistry(options.env, events, options.retryMs);
  void remotes.connectAll();
  return {
    handlers: { ...remoteHandlers(remotes), ...imageHandlers(remotes) },
    events,
    close: () => remotes.close(),
  };
}
