import type {
  EventListener,
  EventMessage,
  EventName,
  Events,
  Unsubscribe,
} from '../shared/contract.js';

/** Fans main-process events out to every transport (IPC windows, bridge sockets). */
export class EventHub {
  private readonly listeners = new Set<EventListener>();

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    const message = { event, payload } as EventMessage;
    for (const listener of this.listeners) listener(message);
  }

  subscribe(listener: EventListener): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
