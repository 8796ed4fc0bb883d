import { create } from 'zustand';
import type { RemoteStatus, RemoteSummary } from '../../shared/contract';
import { api } from '../api/hangar';

interface ConnectionState {
  remotes: RemoteSummary[];
  /** Every remote's last known status, for the sidebar. */
  statuses: Record<string, RemoteStatus>;
  /** The remote on screen; undefined until the list arrived and none is linked. */
  remote: string | undefined;
  project: string;
  /** What the main column shows for an LXD remote: its images, or its instances. */
  view: View;
  projects: string[];
  setRemotes: (remotes: RemoteSummary[]) => void;
  setStatus: (remote: string, status: RemoteStatus) => void;
  loadRemotes: () => Promise<void>;
  selectRemote: (remote: string) => void;
  setProject: (project: string) => void;
  setView: (view: View) => void;
  loadProjects: () => Promise<void>;
}

export type View = 'images' | 'instances' | 'build';

/**
 * The view lives in the URL (#remote=…&project=…[&view=instances]) so it can be linked and
 * survives a reload.
 */
function fromUrl(): { remote: string | undefined; project: string; view: View } {
  const params = new URLSearchParams(location.hash.slice(1));
  return {
    remote: params.get('remote') ?? undefined,
    project: params.get('project') ?? 'default',
    view:
      params.get('view') === 'instances'
        ? 'instances'
        : params.get('view') === 'build'
          ? 'build'
          : 'images',
  };
}

export function remoteHref(remote: string, project = 'default', view: View = 'images'): string {
  return `#${new URLSearchParams({ remote, project, ...(view === 'images' ? {} : { view }) }).toString()}`;
}

const CONNECTING: RemoteStatus = { state: 'connecting' };

export const useConnection = create<ConnectionState>((set, get) => {
  const writeUrl = () => {
    const { remote, project, view } = get();
    if (remote !== undefined) history.replaceState(null, '', remoteHref(remote, project, view));
  };
  // Links in the sidebar change the hash; the store follows.
  window.addEventListener('hashchange', () => {
    const next = fromUrl();
    if (next.remote !== get().remote || next.project !== get().project)
      set({
        remote: next.remote ?? get().remote,
        project: next.project,
        projects: [next.project],
        view: next.view,
      });
    else if (next.view !== get().view) set({ view: next.view });
  });

  return {
    remotes: [],
    statuses: {},
    ...fromUrl(),
    projects: [fromUrl().project],
    setRemotes: (remotes) => {
      const { remote } = get();
      // A removed or renamed remote on screen falls back to the default one.
      const current =
        remote !== undefined && remotes.some((candidate) => candidate.name === remote)
          ? remote
          : remotes.find((candidate) => candidate.isDefault)?.name;
      // A link without a remote (#project=x) opens the default remote on that project.
      const lost = remote !== undefined && current !== remote;
      set({ remotes, remote: current, ...(lost ? { project: 'default', view: 'images' } : {}) });
      writeUrl();
    },
    setStatus: (remote, status) => set({ statuses: { ...get().statuses, [remote]: status } }),
    loadRemotes: async () => {
      const remotes = await api.remotes.list({});
      get().setRemotes(remotes);
      const asked = get().statuses;
      await Promise.all(
        remotes.map(async ({ name }) => {
          const status = await api.remotes.status({ remote: name });
          // A status event that arrived meanwhile is newer than this answer.
          if (get().statuses[name] === asked[name]) get().setStatus(name, status);
        }),
      );
    },
    selectRemote: (remote) => {
      set({ remote, project: 'default', projects: ['default'], view: 'images' });
      writeUrl();
    },
    setProject: (project) => {
      set({ project });
      writeUrl();
    },
    setView: (view) => {
      set({ view });
      writeUrl();
    },
    loadProjects: async () => {
      const { remote, project } = get();
      if (remote === undefined) return;
      try {
        const projects = await api.projects.list({ remote });
        // A linked project that does not exist still shows, with LXD's error in the list.
        set({ projects: projects.includes(project) ? projects : [...projects, project] });
      } catch {
        // The image list shows the connection error; the picker keeps what it had.
      }
    },
  };
});

export function useRemoteStatus(remote: string | undefined): RemoteStatus {
  return useConnection((state) =>
    remote === undefined ? CONNECTING : (state.statuses[remote] ?? CONNECTING),
  );
}
