/** The images of one remote: filter, table, info pane. */
import { useDeferredValue, useMemo, useState } from 'react';
import { filterImages, parseFilter } from '../../shared/images/filter';
import { compareListRows, toImageRow, type ImageRow } from '../../shared/images/format';
import type { LxdImage } from '../../shared/lxd';
import { useConnection, useRemoteStatus } from '../app/connection-store';
import { age } from '../common/format';
import { DeleteImagesDialog } from '../editing/DeleteImagesDialog';
import { useEdit } from '../editing/edit-store';
import { ImageDetails } from './ImageDetails';
import { ImageTable } from './ImageTable';
import { useImages } from './images-store';

/**
 * Each list's rows in lxc's order, made once per list: switching back to a remote whose list is
 * kept reuses them, and a filter keeps the matching ones in that order (the sort is stable, so
 * this is the order sorting the filtered images gives).
 */
interface SortedRows {
  rows: ImageRow[];
  /** The image of each row. */
  images: LxdImage[];
}
const sortedRows = new WeakMap<LxdImage[], SortedRows>();
function rowsOf(images: LxdImage[]): SortedRows {
  let sorted = sortedRows.get(images);
  if (sorted === undefined) {
    const pairs = images
      .map((image) => ({ row: toImageRow(image), image }))
      .sort((a, b) => compareListRows(a.row, b.row));
    sorted = { rows: pairs.map(({ row }) => row), images: pairs.map(({ image }) => image) };
    sortedRows.set(images, sorted);
  }
  return sorted;
}

export function ImagesScreen({ onRefresh }: { onRefresh: () => void }) {
  const {
    images,
    loaded,
    loading,
    refreshing,
    error,
    filter,
    selected,
    selection,
    updates,
    access,
    setFilter,
    select,
    selectMany,
  } = useImages();
  const guard = useEdit((state) => state.guard);
  const [deleting, setDeleting] = useState<LxdImage[] | undefined>();
  // Typing stays responsive on large lists: the table catches up a frame later.
  const deferredFilter = useDeferredValue(filter);
  const filtered = useMemo(
    () => filterImages(images, parseFilter(deferredFilter)),
    [images, deferredFilter],
  );
  // Rows start in lxc's order; the table's stable sort keeps it among equal values.
  const rows = useMemo(() => {
    const all = rowsOf(images);
    if (filtered === images) return all.rows;
    const shown = new Set<LxdImage | undefined>(filtered);
    return all.rows.filter((_, index) => shown.has(all.images[index]));
  }, [images, filtered]);
  const selectedImage = images.find((image) => image.fingerprint === selected);
  const { remote = 'local', project, remotes } = useConnection();
  const status = useRemoteStatus(remote);
  const isLxd = remotes.find((candidate) => candidate.name === remote)?.protocol === 'lxd';
  const scope = useMemo(
    () => ({ remote, project: isLxd ? project : 'default' }),
    [remote, project, isLxd],
  );
  const editable = isLxd && access?.editable === true;
  // Leaving the image on screen with unsaved changes asks first.
  const focus = (fingerprint: string | undefined) => {
    if (fingerprint === selected) select(fingerprint);
    else guard(() => select(fingerprint));
  };
  const focusMany = (fingerprints: string[], next: string | undefined) => {
    if (next === selected) selectMany(fingerprints, next);
    else guard(() => selectMany(fingerprints, next));
  };
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
          {loaded ? `${rows.length} of ${images.length} images` : 'Loading images…'}
        </span>
        {loaded && refreshing ? (
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
      {error === undefined ? null : (
        <p className="error" role="alert">
          Could not list images: {error.message}
        </p>
      )}
      <div className="split">
        <ImageTable
          rows={rows}
          selected={selected}
          selection={selection}
          updates={updates}
          onSelect={focus}
          onSelectMany={focusMany}
          onDelete={
            editable
              ? () => setDeleting(images.filter((image) => selection.includes(image.fingerprint)))
              : undefined
          }
        />
        <ImageDetails
          image={selectedImage}
          scope={scope}
          isLxd={isLxd}
          onClose={() => focus(undefined)}
          onDelete={setDeleting}
        />
      </div>
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
