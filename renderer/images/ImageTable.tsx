/**
 * The image table: the columns of `lxc image list`, sortable by each,
 * virtualized (only the rows in view are in the DOM) over the window of rows
 * the main process sent or the window's own copy, and a keyboard grid: arrows,
 * Page Up/Down, Home/End move the selection; Shift/Ctrl click and Ctrl+A
 * select several; Delete asks to delete the selection.
 */
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  useReactTable,
  type SortingState,
} from '@tanstack/react-table';
import {
  memo,
  useEffect,
  useRef,
  type KeyboardEvent,
  type MouseEvent,
  type ReactNode,
} from 'react';
import type { ImageRow } from '../../shared/images/format';
import type { ImageSort, ImageSortColumn } from '../../shared/images/view';
import { useFixedRows } from '../common/use-fixed-rows';
import type { RowSource } from './images-store';

const column = createColumnHelper<ImageRow>();

/** TanStack keeps the headers and the sort state; the rows are drawn from the window directly. */
const columns = [
  column.accessor('alias', { header: 'ALIAS' }),
  column.accessor('shortFingerprint', { header: 'FINGERPRINT' }),
  column.accessor('public', { header: 'PUBLIC' }),
  column.accessor('description', { header: 'DESCRIPTION' }),
  column.accessor('architecture', { header: 'ARCHITECTURE' }),
  column.accessor('type', { header: 'TYPE' }),
  column.accessor('sizeBytes', { header: 'SIZE' }),
  column.accessor('uploadedAt', { header: 'UPLOAD DATE' }),
];

/** Each column's cell text, in the columns' order (size and date as lxc prints them). */
const CELLS: readonly ((row: ImageRow) => string)[] = [
  (row) => row.alias,
  (row) => row.shortFingerprint,
  (row) => row.public,
  (row) => row.description,
  (row) => row.architecture,
  (row) => row.type,
  (row) => row.size,
  (row) => row.uploadDate,
];

const ROW_HEIGHT = 32;
const NO_ROWS: ImageRow[] = [];
let firstPaintMarked = false;

interface RowProps {
  row: ImageRow;
  index: number;
  selected: boolean;
  /** Its source has a newer image. */
  outdated: boolean;
  onClick: (event: MouseEvent, index: number) => void;
}

/** One row; drawn again only when it shows another image or its state changes. */
const Row = memo(
  function Row({ row, index, selected, outdated, onClick }: RowProps) {
    return (
      <div
        role="row"
        id={`image-row-${row.fingerprint}`}
        aria-rowindex={index + 2}
        aria-selected={selected}
        className={`grid-row${selected ? ' selected' : ''}`}
        style={{ transform: `translateY(${index * ROW_HEIGHT}px)`, height: ROW_HEIGHT }}
        onClick={(event) => onClick(event, index)}
      >
        {CELLS.map((cell, position) => {
          const text = cell(row);
          let content: ReactNode = text;
          if (position === 0 && outdated)
            content = (
              <>
                {text}
                <span className="badge" title="Its source has a newer image: Refresh image">
                  update available
                </span>
              </>
            );
          return (
            <div role="gridcell" key={position} className="grid-cell" title={text}>
              {content}
            </div>
          );
        })}
      </div>
    );
  },
  (before, after) =>
    before.index === after.index &&
    before.selected === after.selected &&
    before.outdated === after.outdated &&
    before.onClick === after.onClick &&
    (before.row === after.row || JSON.stringify(before.row) === JSON.stringify(after.row)),
);

interface ImageTableProps {
  /** How many rows match (the table's length). */
  count: number;
  /** The rows at hand, by index among the matches. */
  rows: RowSource;
  selected: string | undefined;
  activeIndex: number;
  /** Bumped when the active row should be scrolled into view. */
  scrollRequest: number;
  selection: string[];
  updates: Record<string, string>;
  sort: ImageSort;
  onSort: (sort: ImageSort) => void;
  /** The rows in view changed. */
  onShowRows: (start: number, end: number) => void;
  /** Selects the row at an index: alone, a range from the active row (Shift), or toggled (Ctrl). */
  onSelect: (index: number, how: 'one' | 'range' | 'toggle') => void;
  onSelectAll: () => void;
  onClear: () => void;
  /** The Delete key, with the selection to delete. */
  onDelete: (() => void) | undefined;
}

/** Memoized: typing in the filter box draws it again only when its rows come. */
export const ImageTable = memo(function ImageTable({
  count,
  rows,
  selected,
  activeIndex,
  scrollRequest,
  selection,
  updates,
  sort,
  onSort,
  onShowRows,
  onSelect,
  onSelectAll,
  onClear,
  onDelete,
}: ImageTableProps) {
  const sorting: SortingState = [{ id: sort.column, desc: sort.desc }];
  const table = useReactTable({
    data: NO_ROWS,
    columns,
    state: { sorting },
    manualSorting: true,
    onSortingChange: (updater) => {
      const [next] = typeof updater === 'function' ? updater(sorting) : updater;
      if (next !== undefined) onSort({ column: next.id as ImageSortColumn, desc: next.desc });
    },
    getCoreRowModel: getCoreRowModel(),
    enableSortingRemoval: false,
    // The first click sorts ascending.
    sortDescFirst: false,
  });
  const chosen = new Set(selection);

  const scrollRef = useRef<HTMLDivElement>(null);
  const headRef = useRef<HTMLDivElement>(null);
  const { first, last, totalHeight, scrollToIndex } = useFixedRows(
    scrollRef,
    headRef,
    count,
    ROW_HEIGHT,
    3,
  );
  const indexes: number[] = [];
  for (let index = first; index <= last; index++) indexes.push(index);
  // Rows are keyed by their slot among those drawn, not by index: scrolling, the row leaving the
  // view is the one coming in with new text, so the DOM is updated in place rather than made anew.
  const slots = indexes.length;

  useEffect(() => {
    onShowRows(first, last);
  }, [first, last, rows, onShowRows]);

  // Only when asked (the user moved, a link, a new filter): not when a change made elsewhere
  // moved the selected row while the user scrolled away from it.
  useEffect(() => {
    if (activeIndex >= 0) scrollToIndex(activeIndex);
  }, [scrollRequest, scrollToIndex]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (firstPaintMarked || rows.size === 0) return;
    firstPaintMarked = true;
    // Marked after the browser painted the first rows: what "time to first table" measures.
    requestAnimationFrame(() => performance.mark('hangar:first-table-paint'));
  }, [rows.size]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'a') {
      event.preventDefault();
      onSelectAll();
      return;
    }
    if (event.key === 'Delete' && onDelete !== undefined && selection.length > 0) {
      event.preventDefault();
      onDelete();
      return;
    }
    // Read here, not while drawing: reading layout there forces it on every render.
    const pageSize = Math.max(
      1,
      Math.floor((scrollRef.current?.clientHeight ?? ROW_HEIGHT * 10) / ROW_HEIGHT) - 1,
    );
    const moves: Record<string, number> = {
      ArrowDown: activeIndex + 1,
      ArrowUp: activeIndex <= 0 ? 0 : activeIndex - 1,
      PageDown: activeIndex + pageSize,
      PageUp: activeIndex - pageSize,
      Home: 0,
      End: count - 1,
    };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      if (count > 0) onSelect(Math.max(0, Math.min(count - 1, target)), 'one');
    } else if (event.key === 'Escape') {
      onClear();
    }
  };
  // The same function while the selection's anchor stays: rows are not drawn again for it.
  const clickRef = useRef({ activeIndex, onSelect });
  clickRef.current = { activeIndex, onSelect };
  const onRowClick = useRef((event: MouseEvent, index: number) => {
    const { activeIndex: anchor, onSelect: select } = clickRef.current;
    if (event.shiftKey && anchor >= 0) select(index, 'range');
    else if (event.ctrlKey || event.metaKey) select(index, 'toggle');
    else select(index, 'one');
  }).current;

  return (
    <div
      ref={scrollRef}
      className="image-grid"
      role="grid"
      aria-label="Images"
      aria-rowcount={count + 1}
      aria-colcount={columns.length}
      aria-multiselectable="true"
      tabIndex={0}
      aria-activedescendant={
        activeIndex >= 0 && selected !== undefined ? `image-row-${selected}` : undefined
      }
      onKeyDown={onKeyDown}
    >
      <div role="rowgroup" className="grid-head" ref={headRef}>
        {table.getHeaderGroups().map((group) => (
          <div role="row" aria-rowindex={1} className="grid-row" key={group.id}>
            {group.headers.map((header) => {
              const sorted = header.column.getIsSorted();
              return (
                <div
                  role="columnheader"
                  key={header.id}
                  aria-sort={
                    sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'
                  }
                  className="grid-cell"
                >
                  <button
                    type="button"
                    className="sort-button"
                    onClick={header.column.getToggleSortingHandler()}
                  >
                    {flexRender(header.column.columnDef.header, header.getContext())}
                    <span aria-hidden="true" className="sort-mark">
                      {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : ''}
                    </span>
                  </button>
                </div>
              );
            })}
          </div>
        ))}
      </div>
      <div role="rowgroup" className="grid-body">
        <div className="grid-spacer" style={{ height: totalHeight }}>
          {indexes.map((index) => {
            const image = rows.get(index);
            if (image === undefined)
              // Not received yet: its place is kept while its window is on the way.
              return (
                <div
                  role="row"
                  key={`placeholder-${index % slots}`}
                  aria-rowindex={index + 2}
                  aria-busy="true"
                  className="grid-row placeholder"
                  style={{ transform: `translateY(${index * ROW_HEIGHT}px)`, height: ROW_HEIGHT }}
                />
              );
            return (
              <Row
                key={`row-${index % slots}`}
                row={image}
                index={index}
                selected={chosen.has(image.fingerprint) || image.fingerprint === selected}
                outdated={updates[image.fingerprint] !== undefined}
                onClick={onRowClick}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
});
