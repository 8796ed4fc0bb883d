import { create } from 'zustand';
import type { InstanceSummary } from '../../shared/contract';
import { HangarError, type HangarErrorData } from '../../shared/errors';
import { api } from '../api/hangar';

interface InstancesState {
  instances: InstanceSummary[];
  /** The remote and project `instances` belong to. */
  scope: string | undefined;
  loaded: boolean;
  loading: boolean;
  error: HangarErrorData | undefined;
  filter: string;
  /** The instance the details pane shows. */
  selected: string | undefined;
  load: (remote: string, project: string) => Promise<void>;
  setFilter: (filter: string) => void;
  select: (name: string | undefined) => void;
  /** Selects an instance of a remote and project, now or once their list is loaded (a link). */
  reveal: (remote: string, project: string, name: string) => void;
}

const scopeOf = (remote: string, project: string) => `${remote}\n${project}`;
/** The instance a link asked for, selected when its remote and project are shown. */
let revealing: { scope: string; name: string } | undefined;

export const useInstances = create<InstancesState>((set, get) => ({
  instances: [],
  scope: undefined,
  loaded: false,
  loading: false,
  error: undefined,
  filter: '',
  selected: undefined,
  load: async (remote, project) => {
    const scope = scopeOf(remote, project);
    // Another remote or project never shows the previous one's rows.
    if (get().scope !== scope) {
      const selected = revealing?.scope === scope ? revealing.name : undefined;
      revealing = undefined;
      set({
        scope,
        instances: [],
        loaded: false,
        selected,
        error: undefined,
        ...(selected === undefined ? {} : { filter: '' }),
      });
    }
    set({ loading: true });
    try {
      const instances = await api.instances.list({ remote, project });
      if (get().scope !== scope) return;
      set({ instances, loaded: true, loading: false, error: undefined });
    } catch (error) {
      if (get().scope !== scope) return;
      set({ loading: false, loaded: true, error: HangarError.from(error).toData() });
    }
  },
  setFilter: (filter) => set({ filter }),
  select: (selected) => set({ selected }),
  reveal: (remote, project, name) => {
    const scope = scopeOf(remote, project);
    if (get().scope === scope) set({ selected: name, filter: '' });
    else revealing = { scope, name };
  },
}));
