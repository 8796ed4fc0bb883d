/** The images of one remote: filter, table, info pane. */
import { useMemo, useState } from 'react';
import { HangarError } from '../../shared/errors';
import type { LxdImage } from '../../shared/lxd';
import { api } from '../api/hangar';
import { useConnection, useRemoteStatus } from '../app/connection-store';
import { DetailsSplit } from '../common/DetailsSplit';
import { age } from '../common/format';
import { DeleteImagesDialog } from '../editing/DeleteImagesDialog';
import { useEdit } from '../editing/edit-store';
import { ImageDetails } from './ImageDetails';
import { ImageTable } from './ImageTable';
import { useImages } from './images-store';

const noop = () => undefined;

export function ImagesScreen({ onRefresh }: { onRefresh: () => void }) {
  const {
    view,
    rows,
    loaded,
    loading,
    error,
    filter,
    sort,
    selected,
    activeIndex,
    scrollRequest,
    selection,
    selectedImage,
    updates,
    access,
    setFilter,
    setSort,
    showRows,
  } = useImages();
  const guard = useEdit((state) => state.guard);
  const [deleting, setDeleting] = useState<LxdImage[] | undefined>();
  const [selectError, setSelectError] = useState<string | undefined>();
  const { remote = 'local', project, remotes } = useConnection();
  const status = useRemoteStatus(remote);
  const isLxd = remotes.find((candidate) => candidate.name === remote)?.protocol === 'lxd';
  const scope = useMemo(
    () => ({ remote, project: isLxd ? project : 'default' }),
    [remote, project, isLxd],
  );
  const editable = isLxd && access?.editable === true;
  // The table's handlers read the store when called, so they stay the same functions and the
  // (memoized) table is not drawn again for a keystroke in the filter box.
  const handlers = useMemo(() => {
    const state = useImages.getState;
    // Leaving the image on screen with unsaved changes asks first.
    const focus = (fingerprint: string | undefined, index?: number) => {
      if (fingerprint === state().selected) state().select(fingerprint, index);
      else guard(() => state().select(fingerprint, index));
    };
    const focusMany = (fingerprints: string[], next: string | undefined, index?: number) => {
      if (next === state().selected) state().selectMany(fingerprints, next, index);
      else guard(() => state().selectMany(fingerprints, next, index));
    };
    const failed = (failure: unknown) => setSelectError(HangarError.from(failure).message);
    return {
      focus,
      // Rows the table has not received are asked for by index.
      onSelect: (index: number, how: 'one' | 'range' | 'toggle') => {
        setSelectError(undefined);
        const { activeIndex, selected, selection } = state();
        if (how === 'range') {
          const [from, to] = activeIndex < index ? [activeIndex, index] : [index, activeIndex];
          state()
            .fingerprints(from, to)
            .then((range) => focusMany(range, selected), failed);
          return;
        }
        state()
          .rowAt(index)
          .then((fingerprint) => {
            if (fingerprint === undefined) return;
            if (how === 'one') focus(fingerprint, index);
            else if (selection.includes(fingerprint)) {
              const next = selection.filter((id) => id !== fingerprint);
              focusMany(next, next.at(-1), next.length === 0 ? -1 : undefined);
            } else focusMany([...selection, fingerprint], fingerprint, index);
          }, failed);
      },
      onSelectAll: () => {
        setSelectError(undefined);
        const { view, selected } = state();
        if (view === undefined || view.matched === 0) return;
        state()
          .fingerprints(0, view.matched - 1)
          .then(
            (all) => focusMany(all, selected ?? all[0], selected === undefined ? 0 : undefined),
            failed,
          );
      },
      onClear: () => focus(undefined),
      askDelete: (scope: { remote: string; project: string }) => {
        api.images
          .details({ ...scope, fingerprints: state().selection.slice(0, 1000) })
          .then(setDeleting, failed);
      },
    };
  }, [guard]);
  const deletable = editable && selection.length <= 1000;
  const askDelete = useMemo(
    () => (deletable ? () => handlers.askDelete(scope) : undefined),
    [deletable, handlers, scope],
  );
  const catalog = status.state === 'online' ? status.catalog : undefined;

  return (
    <div className="images-screen">
      <div className="toolbar">
        <input
          type="search"
          className="filter"
          aria-label="Filter images"
          placeholder="Filter: alias or fingerprint, key=value on properties (e.g. os=debian)"
          value={filter}
          onChange={(event) => setFilter(event.target.value)}
          spellCheck={false}
        />
        <span className="count" role="status" aria-live="polite">
          {loaded && view !== undefined
            ? `${view.matched} of ${view.total} images`
            : 'Loading images…'}
        </span>
        {loaded && (loading || view?.state === 'kept') ? (
          <span className="refreshing muted" aria-live="polite">
            Refreshing…
          </span>
        ) : null}
        <button type="button" onClick={onRefresh} disabled={loading}>
          Refresh
        </button>
      </div>
      {catalog?.offlineError === undefined ? null : (
        <p className="notice">
          Offline: showing the catalog read {age(catalog.fetchedAt)} ({catalog.offlineError.message}
          )
        </p>
      )}
      {selectError === undefined ? null : (
        <p className="error" role="alert">
          Could not select images: {selectError}
        </p>
      )}
      {error === undefined ? null : (
        <p className="error" role="alert">
          Could not list images: {error.message}
        </p>
      )}
      <DetailsSplit
        paneShown={selection.length > 0}
        table={
          <ImageTable
            count={view?.matched ?? 0}
            rows={rows}
            selected={selected}
            activeIndex={activeIndex}
            scrollRequest={scrollRequest}
            selection={selection}
            updates={updates}
            sort={sort}
            onSort={setSort}
            onShowRows={showRows}
            onSelect={handlers.onSelect}
            onSelectAll={handlers.onSelectAll}
            onClear={handlers.onClear}
            onDelete={askDelete}
          />
        }
        details={
          <ImageDetails
            image={selectedImage?.fingerprint === selected ? selectedImage : undefined}
            scope={scope}
            isLxd={isLxd}
            onClose={handlers.onClear}
            onDelete={askDelete ?? noop}
          />
        }
      />
      {deleting === undefined ? null : (
        <DeleteImagesDialog
          images={deleting}
          scope={scope}
          onClose={() => setDeleting(undefined)}
        />
      )}
    </div>
  );
}
