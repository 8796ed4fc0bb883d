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
  /**
   * `images` is the last list Hangar kept (in this window, or on disk) and the server's answer
   * is awaited: shown at once, marked as refreshing, then replaced.
   */
  refreshing: boolean;
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

export const scopeOf = (remote: string, project: string) => `${remote}\n${project}`;

/** Recent lists of this window, so switching back to a remote paints at once. */
const RECENT_LISTS = 6;
const recent = new Map<string, LxdImage[]>();
/** The remotes that exist, once known: a list that arrives for a removed one is not kept. */
let known: Set<string> | undefined;
function remember(scope: string, images: LxdImage[]): void {
  recent.delete(scope);
  if (known !== undefined && !known.has(scope.split('\n')[0] ?? '')) return;
  recent.set(scope, images);
  for (const key of recent.keys()) {
    if (recent.size <= RECENT_LISTS) break;
    recent.delete(key);
  }
}
/** Lists of remotes that are gone (removed, renamed) are forgotten. */
export function forgetListsExcept(remotes: string[]): void {
  known = new Set(remotes);
  for (const key of recent.keys()) if (!known.has(key.split('\n')[0] ?? '')) recent.delete(key);
}
/** The scope whose server answer is in the store (not a kept copy). */
let answered: string | undefined;
/** The kept copy being read for a scope: the server is asked once it is painted. */
let reading: { scope: string; done: Promise<void> } | undefined;

/** Same images, same values: a fresh answer equal to what is shown changes nothing on screen. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  for (const key of keys) if (!(key in right) || !same(left[key], right[key])) return false;
  return true;
}

// Loads and live updates run one after another, so an older answer never overwrites a newer one.
let queue: Promise<void> = Promise.resolve();
/** An image to select once its remote and project are shown. */
let revealing: { scope: string; fingerprint: string } | undefined;
function serially(task: () => Promise<void>): Promise<void> {
  queue = queue.then(task);
  return queue;
}

export const useImages = create<ImagesState>((set, get) => {
  /**
   * Shows another remote or project at once: never the previous one's rows, but its own last
   * list when this window or Hangar kept one (marked as refreshing until the server answers).
   */
  const enter = (remote: string, project: string) => {
    const scope = scopeOf(remote, project);
    if (get().scope === scope) return;
    const selected = revealing?.scope === scope ? revealing.fingerprint : undefined;
    revealing = undefined;
    answered = undefined;
    const kept = recent.get(scope);
    set({
      images: kept ?? [],
      scope,
      loaded: kept !== undefined,
      refreshing: true,
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
    if (kept === undefined)
      reading = {
        scope,
        done: api.images.cached({ remote, project }).then(
          (cached) => {
            // Only while nothing newer is shown for this scope.
            if (cached === null || get().scope !== scope || answered === scope || get().loaded)
              return;
            remember(scope, cached.images);
            set({ images: cached.images, loaded: true });
          },
          () => undefined,
        ),
      };
  };

  const listAll = async (remote: string, project: string) => {
    const scope = scopeOf(remote, project);
    // Queued behind another list while the user moved on: theirs is queued too.
    if (get().scope !== scope) return;
    set({ loading: true, refreshing: true });
    try {
      // The kept copy first (painted at once), then the server's answer: they would compete.
      if (reading?.scope === scope) await reading.done;
      const fresh = await api.images.list({ remote, project });
      // Unchanged: the rows on screen stay as they are (and so does their layout).
      const shown = get().images;
      const images = get().scope === scope && same(shown, fresh) ? shown : fresh;
      remember(scope, images);
      // The user moved on meanwhile: kept for when they come back, not shown.
      if (get().scope !== scope) return;
      answered = scope;
      set({
        images,
        loaded: true,
        loading: false,
        refreshing: false,
        error: undefined,
      });
      if (
        images.some(
          (image) => image.update_source !== undefined && image.update_source.server !== '',
        )
      )
        void get().checkUpdates(remote, project);
    } catch (error) {
      if (get().scope !== scope) return;
      set({ loading: false, refreshing: false, error: HangarError.from(error).toData() });
    }
  };

  return {
    images: [],
    scope: undefined,
    loaded: false,
    loading: false,
    refreshing: false,
    error: undefined,
    filter: '',
    selected: undefined,
    selection: [],
    access: undefined,
    updates: {},
    load: (remote, project) => {
      // Painted now, whatever is still being listed for another remote.
      enter(remote, project);
      return serially(() => listAll(remote, project));
    },
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
          // The user moved on meanwhile: these changes are not for the list on screen.
          if (get().scope !== scopeOf(remote, project)) return;
          const images = applyChanges(get().images, { removed, fetched, aliases });
          remember(scopeOf(remote, project), images);
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
          if (get().scope === scopeOf(remote, project))
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
