/**
 * The image table: the columns of `lxc image list`, sortable by each,
 * virtualized (only visible rows are in the DOM), and a keyboard grid:
 * arrows, Page Up/Down, Home/End move the selection; Shift/Ctrl click and
 * Ctrl+A select several; Delete asks to delete the selection.
 */
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type RowData,
  type SortingState,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { ImageRow } from '../../shared/images/format';

const column = createColumnHelper<ImageRow>();

const columns = [
  column.accessor('alias', {
    header: 'ALIAS',
    sortingFn: 'basic',
    cell: (cell) => (
      <>
        {cell.row.original.alias}
        {cell.table.options.meta?.updates[cell.row.original.fingerprint] === undefined ? null : (
          <span className="badge" title="Its source has a newer image: Refresh image">
            update available
          </span>
        )}
      </>
    ),
  }),
  column.accessor('shortFingerprint', { header: 'FINGERPRINT', sortingFn: 'basic' }),
  column.accessor('public', { header: 'PUBLIC', sortingFn: 'basic' }),
  column.accessor('description', { header: 'DESCRIPTION', sortingFn: 'basic' }),
  column.accessor('architecture', { header: 'ARCHITECTURE', sortingFn: 'basic' }),
  column.accessor('type', { header: 'TYPE', sortingFn: 'basic' }),
  column.accessor('sizeBytes', {
    header: 'SIZE',
    sortingFn: 'basic',
    cell: (cell) => cell.row.original.size,
  }),
  column.accessor('uploadedAt', {
    header: 'UPLOAD DATE',
    sortingFn: 'basic',
    cell: (cell) => cell.row.original.uploadDate,
  }),
];

const ROW_HEIGHT = 32;
let firstPaintMarked = false;

declare module '@tanstack/react-table' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface TableMeta<TData extends RowData> {
    /** Images with a newer version at their source. */
    updates: Record<string, string>;
  }
}

interface ImageTableProps {
  rows: ImageRow[];
  selected: string | undefined;
  selection: string[];
  updates: Record<string, string>;
  onSelect: (fingerprint: string | undefined) => void;
  onSelectMany: (fingerprints: string[], focus: string | undefined) => void;
  /** The Delete key, with the selection to delete. */
  onDelete: (() => void) | undefined;
}

export function ImageTable({
  rows,
  selected,
  selection,
  updates,
  onSelect,
  onSelectMany,
  onDelete,
}: ImageTableProps) {
  // `lxc image list` prints rows sorted by their text, i.e. by ALIAS first.
  const [sorting, setSorting] = useState<SortingState>([{ id: 'alias', desc: false }]);
  // TanStack Table is not memoizable by the React Compiler; this component does not rely on it.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable({
    data: rows,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    getRowId: (row) => row.fingerprint,
    enableSortingRemoval: false,
    // The first click sorts ascending, even while the list is still loading (TanStack would
    // otherwise guess from the first row, and guess descending when there is none).
    sortDescFirst: false,
    meta: { updates },
  });
  const chosen = new Set(selection);
  const sortedRows = table.getRowModel().rows;

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: sortedRows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    // The sticky header covers the first row's height of the viewport.
    scrollPaddingStart: ROW_HEIGHT,
    getItemKey: (index) => sortedRows[index]?.id ?? index,
  });

  const activeIndex =
    selected === undefined ? -1 : sortedRows.findIndex((row) => row.id === selected);

  useEffect(() => {
    if (activeIndex >= 0) virtualizer.scrollToIndex(activeIndex, { align: 'auto' });
  }, [activeIndex, virtualizer]);

  useEffect(() => {
    if (firstPaintMarked || rows.length === 0) return;
    firstPaintMarked = true;
    // Marked after the browser painted the first rows: what "time to first table" measures.
    requestAnimationFrame(() => performance.mark('hangar:first-table-paint'));
  }, [rows.length]);

  const move = (index: number) => {
    const clamped = Math.max(0, Math.min(sortedRows.length - 1, index));
    const row = sortedRows[clamped];
    if (row !== undefined) onSelect(row.id);
  };

  const pageSize = Math.max(
    1,
    Math.floor((scrollRef.current?.clientHeight ?? ROW_HEIGHT * 10) / ROW_HEIGHT) - 1,
  );
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'a') {
      event.preventDefault();
      onSelectMany(
        sortedRows.map((row) => row.id),
        selected ?? sortedRows[0]?.id,
      );
      return;
    }
    if (event.key === 'Delete' && onDelete !== undefined && selection.length > 0) {
      event.preventDefault();
      onDelete();
      return;
    }
    const moves: Record<string, number> = {
      ArrowDown: activeIndex + 1,
      ArrowUp: activeIndex <= 0 ? 0 : activeIndex - 1,
      PageDown: activeIndex + pageSize,
      PageUp: activeIndex - pageSize,
      Home: 0,
      End: sortedRows.length - 1,
    };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      move(target);
    } else if (event.key === 'Escape') {
      onSelect(undefined);
    }
  };

  return (
    <div
      ref={scrollRef}
      className="image-grid"
      role="grid"
      aria-label="Images"
      aria-rowcount={sortedRows.length + 1}
      aria-colcount={columns.length}
      aria-multiselectable="true"
      tabIndex={0}
      aria-activedescendant={activeIndex >= 0 ? `image-row-${selected ?? ''}` : undefined}
      onKeyDown={onKeyDown}
    >
      <div role="rowgroup" className="grid-head">
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
        <div className="grid-spacer" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = sortedRows[item.index];
            if (row === undefined) return null;
            const isSelected = chosen.has(row.id) || row.id === selected;
            return (
              <div
                role="row"
                id={`image-row-${row.id}`}
                key={item.key}
                aria-rowindex={item.index + 2}
                aria-selected={isSelected}
                className={`grid-row${isSelected ? ' selected' : ''}`}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
                onClick={(event) => {
                  if (event.shiftKey && activeIndex >= 0) {
                    const [from, to] = [activeIndex, item.index].sort((a, b) => a - b) as [
                      number,
                      number,
                    ];
                    onSelectMany(
                      sortedRows.slice(from, to + 1).map((candidate) => candidate.id),
                      selected,
                    );
                  } else if (event.ctrlKey || event.metaKey) {
                    const next = chosen.has(row.id)
                      ? selection.filter((id) => id !== row.id)
                      : [...selection, row.id];
                    onSelectMany(next, chosen.has(row.id) ? next.at(-1) : row.id);
                  } else onSelect(row.id);
                }}
              >
                {row.getVisibleCells().map((cell) => (
                  <div
                    role="gridcell"
                    key={cell.id}
                    className="grid-cell"
                    title={
                      typeof cell.getValue() === 'string' ? String(cell.getValue()) : undefined
                    }
                  >
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
