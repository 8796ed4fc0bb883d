import { create } from 'zustand';
import { applyChanges, planChanges, type ImageChange } from '../../shared/images/changes';
import type { ImageAccess } from '../../shared/contract';
import { HangarError, type HangarErrorData } from '../../shared/errors';
import type { LxdImage } from '../../shared/lxd';
import { api } from '../api/hangar';

interface ImagesState {
  images: LxdImage[];
  /** The remote and project `images` belong to. */
  scope: string | undefined;
  /** Set once the first list arrived, so an empty store is told apart from loading. */
  loaded: boolean;
  loading: boolean;
  error: HangarErrorData | undefined;
  filter: string;
  /** The image the info pane shows (the last one clicked). */
  selected: string | undefined;
  /** Every selected image (Shift/Ctrl click, Ctrl+A), for Delete; includes `selected`. */
  selection: string[];
  /** What may be done here, and why not. */
  access: ImageAccess | undefined;
  /** Images whose source has a newer image: fingerprint → the newer fingerprint. */
  updates: Record<string, string>;
  load: (remote: string, project: string) => Promise<void>;
  /** Brings the list up to date after lifecycle events, reading as little as it can. */
  applyChanges: (remote: string, project: string, changes: ImageChange[]) => Promise<void>;
  setFilter: (filter: string) => void;
  select: (fingerprint: string | undefined) => void;
  /** Several images; `focus` is the one the info pane shows. */
  selectMany: (fingerprints: string[], focus: string | undefined) => void;
  /** Asks the images' sources for newer versions (in the background). */
  checkUpdates: (remote: string, project: string) => Promise<void>;
  /** Selects an image of a remote and project, now or once their list is shown (a link to it). */
  reveal: (remote: string, project: string, fingerprint: string) => void;
}

const scopeOf = (remote: string, project: string) => `${remote}\n${project}`;

// Loads and live updates run one after another, so an older answer never overwrites a newer one.
let queue: Promise<void> = Promise.resolve();
/** An image to select once its remote and project are shown. */
let revealing: { scope: string; fingerprint: string } | undefined;
function serially(task: () => Promise<void>): Promise<void> {
  queue = queue.then(task);
  return queue;
}

export const useImages = create<ImagesState>((set, get) => {
  const listAll = async (remote: string, project: string) => {
    const scope = scopeOf(remote, project);
    // Another remote or project: its rows must not show under the new name while it loads.
    if (get().scope !== scope) {
      const selected = revealing?.scope === scope ? revealing.fingerprint : undefined;
      revealing = undefined;
      set({
        images: [],
        scope,
        loaded: false,
        selected,
        selection: selected === undefined ? [] : [selected],
        error: undefined,
        access: undefined,
        updates: {},
      });
      void api.images.access({ remote, project }).then(
        (access) => {
          if (get().scope === scope) set({ access });
        },
        () => undefined,
      );
    }
    set({ loading: true });
    try {
      const images = await api.images.list({ remote, project });
      set({
        images,
        loaded: true,
        loading: false,
        error: undefined,
      });
      if (
        images.some(
          (image) => image.update_source !== undefined && image.update_source.server !== '',
        )
      )
        void get().checkUpdates(remote, project);
    } catch (error) {
      set({ loading: false, error: HangarError.from(error).toData() });
    }
  };

  return {
    images: [],
    scope: undefined,
    loaded: false,
    loading: false,
    error: undefined,
    filter: '',
    selected: undefined,
    selection: [],
    access: undefined,
    updates: {},
    load: (remote, project) => serially(() => listAll(remote, project)),
    applyChanges: (remote, project, changes) =>
      serially(async () => {
        if (get().scope !== scopeOf(remote, project)) return;
        const plan = planChanges(changes);
        if (plan.reload) return listAll(remote, project);
        try {
          const removed = new Set(plan.removed);
          const fetched: LxdImage[] = [];
          await Promise.all(
            [...plan.fetch].map(async (fingerprint) => {
              try {
                fetched.push(await api.images.get({ remote, project, fingerprint }));
              } catch (error) {
                // Gone again before we read it.
                if (HangarError.from(error).code === 'not-found') removed.add(fingerprint);
                else throw error;
              }
            }),
          );
          const aliases = plan.aliases ? await api.images.aliases({ remote, project }) : undefined;
          const images = applyChanges(get().images, { removed, fetched, aliases });
          const present = new Set(images.map((image) => image.fingerprint));
          const { selected, selection } = get();
          set({
            images,
            error: undefined,
            // Deleted images leave the selection (another client may have deleted them).
            selection: selection.filter((fingerprint) => present.has(fingerprint)),
            selected: selected !== undefined && present.has(selected) ? selected : undefined,
          });
        } catch (error) {
          set({ error: HangarError.from(error).toData() });
        }
      }),
    setFilter: (filter) => set({ filter }),
    select: (selected) => set({ selected, selection: selected === undefined ? [] : [selected] }),
    selectMany: (selection, selected) => set({ selection, selected }),
    checkUpdates: async (remote, project) => {
      const scope = scopeOf(remote, project);
      try {
        const result = await api.images.checkUpdates({ remote, project });
        if (get().scope !== scope) return;
        set({
          updates: Object.fromEntries(
            result.updates.map(({ fingerprint, latest }) => [fingerprint, latest]),
          ),
        });
      } catch {
        // Only a hint: the list does not depend on it.
      }
    },
    reveal: (remote, project, fingerprint) => {
      const scope = scopeOf(remote, project);
      if (get().scope === scope) set({ selected: fingerprint, selection: [fingerprint] });
      else revealing = { scope, fingerprint };
    },
  };
});
