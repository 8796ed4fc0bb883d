/**
 * The image list on screen. The main process holds every list; this store
 * shows the rows the table paints: first a window of the held list (painted
 * at once), then, from the window's own compact copy (list-copies.ts), every
 * filter and sort worked out here, in the input's frame. It also holds the
 * counts, the selection and the selected images' details.
 */
import { create } from 'zustand';
import type { ImageAccess } from '../../shared/contract';
import { HangarError, type HangarErrorData } from '../../shared/errors';
import type { ImageRow } from '../../shared/images/format';
import { LXC_SORT, type ImageSort, type ImageView } from '../../shared/images/view';
import type { LxdImage } from '../../shared/lxd';
import { api } from '../api/hangar';
import { copyOf, fetchCopy, type ListCopy } from './list-copies';

/** Every match of a filter in a window's copy, in the sort's order. */
class CopiedRows {
  constructor(
    private readonly copy: ListCopy,
    private readonly matched: Int32Array,
  ) {}

  get size(): number {
    return this.matched.length;
  }

  get(index: number): ImageRow | undefined {
    const position = this.matched[index];
    return position === undefined ? undefined : this.copy.rows[position];
  }
}

/**
 * The rows of the current filter and sort, by their index among the matches: those received
 * from the main process, or every one of the window's copy.
 */
export type RowSource = ReadonlyMap<number, ImageRow> | CopiedRows;

/** Resolves after the next frame is drawn. */
const afterPaint = () =>
  new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/** What the latest answer said about the whole list. */
export type ViewFacts = Omit<ImageView, 'rows' | 'offset' | 'found'>;

interface ImagesState {
  /** The remote and project on screen. */
  scope: string | undefined;
  view: ViewFacts | undefined;
  /** The rows of the current filter, sort and version. */
  rows: RowSource;
  /** Set once a list is shown (kept or fresh), so an empty list is told apart from loading. */
  loaded: boolean;
  /** The server is being asked; a kept list on screen is marked as refreshing meanwhile. */
  loading: boolean;
  error: HangarErrorData | undefined;
  filter: string;
  sort: ImageSort;
  /** The image the info pane shows (the last one clicked). */
  selected: string | undefined;
  /** Its index among the matches (for the keyboard), -1 when unknown or filtered out. */
  activeIndex: number;
  /** Bumped when the selected row should come into view (the user moved, a link, a new filter). */
  scrollRequest: number;
  /** Every selected image (Shift/Ctrl click, Ctrl+A), for Delete; includes `selected`. */
  selection: string[];
  /** The selected image, whole (read from the held list). */
  selectedImage: LxdImage | undefined;
  /** The selected images, whole, when several are. */
  selectedImages: LxdImage[];
  /** What may be done here, and why not. */
  access: ImageAccess | undefined;
  /** Images whose source has a newer image: fingerprint → the newer fingerprint. */
  updates: Record<string, string>;
  /**
   * The kept list at once, then the server's (a list LXD's events kept current is not read
   * again unless `refresh`: the Refresh button).
   */
  load: (remote: string, project: string, refresh?: boolean) => Promise<void>;
  /** The main process changed a held list. */
  listChanged: (remote: string, project: string, version: number) => void;
  /** Events may have been missed: the rows and selection on screen are read again. */
  resync: () => void;
  setFilter: (filter: string) => void;
  setSort: (sort: ImageSort) => void;
  /** The table shows rows `start`..`end`: fetches those it does not have. */
  showRows: (start: number, end: number) => void;
  select: (fingerprint: string | undefined, index?: number) => void;
  /** Several images; `focus` is the one the info pane shows. */
  selectMany: (fingerprints: string[], focus: string | undefined, index?: number) => void;
  /** The fingerprint of the row at an index among the matches (fetched when not shown). */
  rowAt: (index: number) => Promise<string | undefined>;
  /** The fingerprints of the rows `from`..`to` among the matches (all with 0..matched-1). */
  fingerprints: (from: number, to: number) => Promise<string[]>;
  /** Asks the images' sources for newer versions (in the background). */
  checkUpdates: (remote: string, project: string) => Promise<void>;
  /** Selects an image of a remote and project, now or once their list is shown (a link to it). */
  reveal: (remote: string, project: string, fingerprint: string) => void;
}

export const scopeOf = (remote: string, project: string) => `${remote}\n${project}`;
const scopeParts = (scope: string) => {
  const [remote = '', project = 'default'] = scope.split('\n');
  return { remote, project };
};

/** Rows are asked for in pages, with a margin around what is visible. */
const PAGE = 100;
const MARGIN = 50;
/** The selected images the info pane lists (the rest it counts). */
const DETAILS_MAX = 100;

/** The rows the table shows now. */
let visible = { start: 0, end: 40 };
/** The filter, sort and version the rows in the store belong to. */
let rowsKey = '';
/** Only the newest answer to a changed filter or sort replaces the rows. */
let asked = 0;
/** The newest list version announced while the server's answer was awaited. */
let changedWhileLoading = 0;
/**
 * The list changed (or events may have been missed) and the server's answer is not in yet: the
 * copy on hand is of an older list, so filters go to the main process meanwhile.
 */
let copyStale = false;
/** An image to select once its remote and project are shown. */
let revealing: { scope: string; fingerprint: string } | undefined;

export const useImages = create<ImagesState>((set, get) => {
  const queryKey = () => {
    const { scope, filter, sort } = get();
    return JSON.stringify([scope, filter, sort]);
  };
  const base = () => {
    const { scope = '', filter, sort } = get();
    return { ...scopeParts(scope), filter, sort };
  };
  /** The query for the rows in view (and the place of the selected image among the matches). */
  const viewQuery = (selected: string | undefined) => {
    const offset = Math.max(0, Math.floor((visible.start - MARGIN) / PAGE) * PAGE);
    const limit = Math.min(1000, Math.ceil((visible.end + MARGIN - offset) / PAGE) * PAGE);
    return { ...base(), offset, limit, ...(selected === undefined ? {} : { find: selected }) };
  };

  /**
   * Takes an answer in: replaces the rows when the filter, sort or list changed, else adds to
   * them. `asked` is the selected image the query asked about; `scroll` brings it into view.
   */
  const take = (
    key: string,
    answer: ImageView,
    replace: boolean,
    asked: string | undefined,
    scroll: boolean,
  ) => {
    const { view, rows, scope } = get();
    if (key !== queryKey()) return false;
    // The main process no longer holds a list shown fresh (evicted, or an update failed): the
    // rows stay, and the server is asked again.
    if (answer.state !== 'fresh' && view?.state === 'fresh') {
      if (!get().loading && scope !== undefined) {
        const { remote, project } = scopeParts(scope);
        void get().load(remote, project);
      }
      if (answer.state === 'none') return false;
    }
    // Versions only grow: an answer about an older list is of no use.
    if (view !== undefined && answer.version < view.version && rowsKey === key) return false;
    const fresh = replace || rowsKey !== key || view?.version !== answer.version;
    const next = new Map(fresh || rows instanceof CopiedRows ? [] : rows);
    answer.rows.forEach((row, index) => next.set(answer.offset + index, row));
    rowsKey = key;
    copyStale = false;
    const { state, version, fetchedAt, total, matched, withSources, found } = answer;
    // Where the selection is now, when it is still the one asked about (keys move it meanwhile).
    const placed = found !== undefined && get().selected === asked;
    set({
      view: { state, version, fetchedAt, total, matched, withSources },
      rows: next,
      loaded: answer.state !== 'none' || get().loaded,
      ...(placed ? { activeIndex: found } : {}),
      ...(placed && scroll ? { scrollRequest: get().scrollRequest + 1 } : {}),
    });
    // A kept list too: it is filtered here while the server is asked again (which can take LXD
    // seconds), and its copy stays good if the server's answer is the same list.
    if (answer.state !== 'none') adoptCopy(answer.version);
    return true;
  };

  /** The window's copy of the list on screen, at the version shown. */
  const localCopy = (): ListCopy | undefined => {
    const { scope, view } = get();
    return scope === undefined || view === undefined || copyStale
      ? undefined
      : copyOf(scope, view.version);
  };

  /** The current filter and sort, worked out on the copy and shown in the same frame. */
  const showCopy = (copy: ListCopy, scroll: boolean) => {
    const { view, filter, sort, selected } = get();
    if (view === undefined) return;
    // Answers still awaited are of an older filter or sort.
    asked += 1;
    rowsKey = queryKey();
    const matched = copy.match(filter, sort);
    const position = selected === undefined ? undefined : copy.positionOf(selected);
    const found = position === undefined ? -1 : matched.indexOf(position);
    set({
      view: { ...view, total: copy.size, matched: matched.length },
      rows: new CopiedRows(copy, matched),
      ...(selected === undefined ? {} : { activeIndex: found }),
      ...(selected !== undefined && scroll ? { scrollRequest: get().scrollRequest + 1 } : {}),
    });
  };

  /** Filters and sorts on the copy of this version from now on: fetched when not held. */
  const adoptCopy = (version: number) => {
    const { scope } = get();
    if (scope === undefined) return;
    // The copy of the list shown now, not stale, and once: the rows stay where they are, only
    // their source changes.
    const adopt = () => {
      const copy = localCopy();
      if (copy !== undefined && !(get().rows instanceof CopiedRows)) showCopy(copy, false);
    };
    if (copyOf(scope, version) !== undefined) adopt();
    // After the rows on screen are painted: the copy is not what the user waits for.
    else
      void afterPaint()
        .then(() => fetchCopy(scope, scopeParts(scope), version))
        .then(adopt);
  };

  /**
   * The rows on screen for the current filter and sort (and where the selection is among them,
   * scrolled to when `scroll`: a new filter or sort, a link; not a change made elsewhere).
   */
  const query = async (replace: boolean, scroll = replace, fromServer = false) => {
    const key = queryKey();
    if (get().scope === undefined) return;
    const copy = fromServer ? undefined : localCopy();
    if (copy !== undefined) {
      showCopy(copy, scroll);
      return;
    }
    // Only the newest answer to a changed filter or sort counts; windows while scrolling add up.
    const seq = replace ? ++asked : asked;
    const { selected } = get();
    try {
      const answer = await api.images.view(viewQuery(selected));
      if (seq === asked) take(key, answer, replace, selected, scroll);
    } catch (error) {
      if (key === queryKey()) set({ error: HangarError.from(error).toData() });
    }
  };

  /** The selected images, whole, again (after a change of the list: deleted ones leave the selection). */
  const readSelection = async () => {
    const { scope, selection, selected } = get();
    if (scope === undefined || selection.length === 0) {
      set({ selectedImage: undefined, selectedImages: [] });
      return;
    }
    const asked = selection.slice(0, DETAILS_MAX);
    try {
      const images = await api.images.details({ ...scopeParts(scope), fingerprints: asked });
      const now = get();
      if (now.scope !== scope || now.selection !== selection) return;
      const present = new Set(images.map((image) => image.fingerprint));
      const kept = selection.filter(
        (fingerprint, index) => index >= DETAILS_MAX || present.has(fingerprint),
      );
      const image = images.find((candidate) => candidate.fingerprint === selected);
      // The same image keeps its object: the info pane and its draft stay as they are.
      const unchanged =
        image !== undefined &&
        now.selectedImage !== undefined &&
        JSON.stringify(image) === JSON.stringify(now.selectedImage);
      set({
        selectedImage: unchanged ? now.selectedImage : image,
        selectedImages: selection.length > 1 ? images : [],
        ...(kept.length === selection.length
          ? {}
          : {
              selection: kept,
              selected: selected !== undefined && present.has(selected) ? selected : undefined,
            }),
      });
    } catch {
      // The list is not held any more: the next answer brings it back.
    }
  };

  /**
   * Shows another remote or project at once: never the previous one's rows, but its last list
   * when Hangar holds or kept one (marked as refreshing until the server answers).
   */
  const enter = async (remote: string, project: string) => {
    const scope = scopeOf(remote, project);
    if (get().scope === scope) return;
    const selected = revealing?.scope === scope ? revealing.fingerprint : undefined;
    revealing = undefined;
    rowsKey = '';
    copyStale = false;
    changedWhileLoading = 0;
    visible = { start: 0, end: 40 };
    set({
      scope,
      view: undefined,
      rows: new Map<number, ImageRow>(),
      loaded: false,
      error: undefined,
      selected,
      activeIndex: -1,
      selection: selected === undefined ? [] : [selected],
      selectedImage: undefined,
      selectedImages: [],
      access: undefined,
      updates: {},
    });
    void api.images.access({ remote, project }).then(
      (access) => {
        if (get().scope === scope) set({ access });
      },
      () => undefined,
    );
    await query(true);
    if (selected !== undefined) void readSelection();
  };

  return {
    scope: undefined,
    view: undefined,
    rows: new Map<number, ImageRow>(),
    loaded: false,
    loading: false,
    error: undefined,
    filter: '',
    sort: LXC_SORT,
    selected: undefined,
    activeIndex: -1,
    scrollRequest: 0,
    selection: [],
    selectedImage: undefined,
    selectedImages: [],
    access: undefined,
    updates: {},
    load: async (remote, project, refresh = false) => {
      const scope = scopeOf(remote, project);
      // The kept list (painted at once) and the server's list are asked for together: the
      // server is not kept waiting while a big kept list is read from disk.
      void enter(remote, project);
      if (get().scope !== scope) return;
      set({ loading: true });
      const key = queryKey();
      const { selected } = get();
      try {
        const answer = await api.images.load({ ...viewQuery(selected), refresh });
        if (get().scope !== scope) return;
        set({ loading: false, error: undefined });
        // The kept list's answer, when it comes later, is older than this one: it is dropped.
        if (key === queryKey()) asked += 1;
        const missed = changedWhileLoading > answer.version;
        changedWhileLoading = 0;
        // A filter typed meanwhile has its own answer coming.
        if (take(key, answer, true, selected, true) && !missed) void readSelection();
        else if (missed || get().view?.version !== answer.version)
          void query(true, false, true).then(readSelection);
        if (answer.withSources > 0) void get().checkUpdates(remote, project);
      } catch (error) {
        if (get().scope !== scope) return;
        set({ loading: false, error: HangarError.from(error).toData() });
      }
    },
    listChanged: (remote, project, version) => {
      if (get().scope !== scopeOf(remote, project) || get().view?.version === version) return;
      copyStale = true;
      // The server's answer under way brings this version (or a newer one) itself.
      if (get().loading) {
        changedWhileLoading = Math.max(changedWhileLoading, version);
        return;
      }
      void query(true, false, true).then(readSelection);
    },
    resync: () => {
      const { scope, error, loading } = get();
      if (scope === undefined) return;
      copyStale = true;
      // A read cut off with the connection is asked again; otherwise the held list is current.
      if (error !== undefined || loading) {
        const { remote, project } = scopeParts(scope);
        void get().load(remote, project);
      } else void query(true, false, true).then(readSelection);
    },
    setFilter: (filter) => {
      set({ filter });
      void query(true);
    },
    setSort: (sort) => {
      set({ sort });
      void query(true);
    },
    showRows: (start, end) => {
      visible = { start, end };
      const { rows, view } = get();
      if (view === undefined || rows instanceof CopiedRows) return;
      const last = Math.min(end, view.matched - 1);
      for (let index = Math.max(0, start); index <= last; index++) {
        if (!rows.has(index)) {
          void query(false);
          return;
        }
      }
    },
    select: (selected, index) => {
      set({
        selected,
        selection: selected === undefined ? [] : [selected],
        activeIndex: selected === undefined ? -1 : (index ?? get().activeIndex),
        scrollRequest: get().scrollRequest + 1,
      });
      void readSelection();
    },
    selectMany: (selection, selected, index) => {
      set({
        selection,
        selected,
        activeIndex: selected === undefined ? -1 : (index ?? get().activeIndex),
        scrollRequest: get().scrollRequest + 1,
      });
      void readSelection();
    },
    rowAt: async (index) => {
      const shown = get().rows.get(index);
      if (shown !== undefined) return shown.fingerprint;
      const [fingerprint] = await get().fingerprints(index, index);
      return fingerprint;
    },
    fingerprints: async (from, to) => {
      const { scope } = get();
      if (scope === undefined || to < from) return [];
      const copy = localCopy();
      if (copy !== undefined) return copy.fingerprints(get().filter, get().sort, from, to);
      return api.images.select({ ...base(), from, to });
    },
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
      if (get().scope === scope) {
        set({ selected: fingerprint, selection: [fingerprint] });
        void query(true);
        void readSelection();
      } else revealing = { scope, fingerprint };
    },
  };
});
