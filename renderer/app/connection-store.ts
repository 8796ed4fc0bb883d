import { create } from 'zustand';
import type { RemoteStatus } from '../../shared/contract';
import { api } from '../api/hangar';

interface ConnectionState {
  remote: string;
  project: string;
  projects: string[];
  status: RemoteStatus;
  setStatus(status: RemoteStatus): void;
  setProject(project: string): void;
  loadProjects(): Promise<void>;
}

export const useConnection = create<ConnectionState>((set, get) => ({
  remote: 'local',
  project: 'default',
  projects: ['default'],
  status: { state: 'connecting' },
  setStatus: (status) => set({ status }),
  setProject: (project) => set({ project }),
  loadProjects: async () => {
    try {
      const projects = await api.projects.list({ remote: get().remote });
      set({ projects: projects.length === 0 ? ['default'] : projects });
    } catch {
      // The image list shows the connection error; the picker keeps what it had.
    }
  },
}));
