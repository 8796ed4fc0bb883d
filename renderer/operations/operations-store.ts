import { create } from 'zustand';
import type { OperationSummary } from '../../shared/contract';
import { api } from '../api/hangar';

interface OperationsState {
  operations: OperationSummary[];
  /**
   * The session's operations, from the main process: a reloaded page finds them again, and so
   * does one that missed events.
   */
  load: () => Promise<void>;
  /** An operation started, progressed or ended. */
  update: (operation: OperationSummary) => void;
}

const order = (a: OperationSummary, b: OperationSummary) =>
  Number(b.state === 'running') - Number(a.state === 'running') ||
  b.startedAt.localeCompare(a.startedAt);

export const useOperations = create<OperationsState>((set, get) => ({
  operations: [],
  load: async () => {
    const before = new Set(get().operations);
    const loaded = await api.operations.list({});
    // The list is newer than what was shown when it was asked for (read again after the page
    // missed events); events that arrived while loading are at least as new as the list.
    const byId = new Map(loaded.map((operation) => [operation.id, operation]));
    for (const operation of get().operations)
      if (!before.has(operation) || !byId.has(operation.id)) byId.set(operation.id, operation);
    set({ operations: [...byId.values()].sort(order) });
  },
  update: (operation) => {
    const others = get().operations.filter((candidate) => candidate.id !== operation.id);
    set({ operations: [operation, ...others].sort(order) });
  },
}));
