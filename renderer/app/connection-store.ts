import { create } from 'zustand';
import type { RemoteStatus } from '../../shared/contract';
import { api } from '../api/hangar';

interface ConnectionState {
  remote: string;
  project: string;
  projects: string[];
  status: RemoteStatus;
  setStatus: (status: RemoteStatus) => void;
  setProject: (project: string) => void;
  loadProjects: () => Promise<void>;
}

/** The project lives in the URL (#project=name) so a view can be linked and survives a reload. */
function projectFromUrl(): string {
  return new URLSearchParams(location.hash.slice(1)).get('project') ?? 'default';
}

export const useConnection = create<ConnectionState>((set, get) => ({
  remote: 'local',
  project: projectFromUrl(),
  projects: ['default'],
  status: { state: 'connecting' },
  setStatus: (status) => set({ status }),
  setProject: (project) => {
    history.replaceState(null, '', `#${new URLSearchParams({ project }).toString()}`);
    set({ project });
  },
  loadProjects: async () => {
    try {
      const { remote, project } = get();
      const projects = await api.projects.list({ remote });
      // A linked project that does not exist still shows, with LXD's error in the list.
      set({ projects: projects.includes(project) ? projects : [...projects, project] });
    } catch {
      // The image list shows the connection error; the picker keeps what it had.
    }
  },
}));
