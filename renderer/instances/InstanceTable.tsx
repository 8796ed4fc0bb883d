/**
 * The instances of a project, as `lxc list` names them, plus each one's
 * base image (a link to it while it exists) and snapshots. Virtualized like
 * the image table, and a keyboard grid: arrows, Home/End move the selection.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef, type KeyboardEvent, type MouseEvent } from 'react';
import type { InstanceSummary } from '../../shared/contract';
import { infoDate } from '../../shared/images/format';

/** lxc list's CREATED AT: "2006/01/02 15:04 MST" in UTC. */
const formatDate = (iso: string) => (iso === '' ? '' : infoDate(iso));

const HEADERS = ['NAME', 'TYPE', 'STATUS', 'BASE IMAGE', 'SNAPSHOTS', 'CREATED'] as const;
const ROW_HEIGHT = 32;

interface InstanceTableProps {
  rows: InstanceSummary[];
  selected: string | undefined;
  /** Images of this project that still exist, by full fingerprint. */
  images: ReadonlySet<string>;
  onSelect: (name: string | undefined) => void;
  /** A base image link was followed. */
  onOpenImage: (fingerprint: string) => void;
  imageHref: string;
}

function BaseImage({
  fingerprint,
  exists,
  href,
  onOpen,
}: {
  fingerprint: string | null;
  exists: boolean;
  href: string;
  onOpen: (fingerprint: string) => void;
}) {
  if (fingerprint === null) return <span className="muted">none recorded</span>;
  const short = fingerprint.slice(0, 12);
  if (!exists)
    return (
      <span className="mono" title={`${fingerprint} (no longer in this project)`}>
        {short} <span className="muted">(gone)</span>
      </span>
    );
  return (
    <a
      className="mono"
      href={href}
      title={`Show image ${fingerprint}`}
      onClick={(event: MouseEvent) => {
        event.stopPropagation();
        onOpen(fingerprint);
      }}
    >
      {short}
    </a>
  );
}

export function InstanceTable({
  rows,
  selected,
  images,
  onSelect,
  onOpenImage,
  imageHref,
}: InstanceTableProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  // TanStack Virtual is not memoizable by the React Compiler; this component does not rely on it.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    scrollPaddingStart: ROW_HEIGHT,
    getItemKey: (index) => rows[index]?.name ?? index,
  });
  const activeIndex = selected === undefined ? -1 : rows.findIndex((row) => row.name === selected);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const moves: Record<string, number> = {
      ArrowDown: activeIndex + 1,
      ArrowUp: activeIndex <= 0 ? 0 : activeIndex - 1,
      Home: 0,
      End: rows.length - 1,
    };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      const row = rows[Math.max(0, Math.min(rows.length - 1, target))];
      if (row !== undefined) {
        onSelect(row.name);
        virtualizer.scrollToIndex(rows.indexOf(row), { align: 'auto' });
      }
    } else if (event.key === 'Escape') onSelect(undefined);
  };

  return (
    <div
      ref={scrollRef}
      className="image-grid instance-grid"
      role="grid"
      aria-label="Instances"
      aria-rowcount={rows.length + 1}
      aria-colcount={HEADERS.length}
      tabIndex={0}
      aria-activedescendant={activeIndex >= 0 ? `instance-row-${selected ?? ''}` : undefined}
      onKeyDown={onKeyDown}
    >
      <div role="rowgroup" className="grid-head">
        <div role="row" aria-rowindex={1} className="grid-row">
          {HEADERS.map((header) => (
            <div role="columnheader" key={header} className="grid-cell column-title">
              {header}
            </div>
          ))}
        </div>
      </div>
      <div role="rowgroup" className="grid-body">
        <div className="grid-spacer" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index];
            if (row === undefined) return null;
            const isSelected = row.name === selected;
            const snapshots = row.snapshots.map((snapshot) => snapshot.name).join(', ');
            return (
              <div
                role="row"
                id={`instance-row-${row.name}`}
                key={item.key}
                aria-rowindex={item.index + 2}
                aria-selected={isSelected}
                className={`grid-row${isSelected ? ' selected' : ''}`}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
                onClick={() => onSelect(row.name)}
              >
                <div role="gridcell" className="grid-cell" title={row.name}>
                  {row.name}
                </div>
                <div role="gridcell" className="grid-cell">
                  {row.type === 'virtual-machine' ? 'VIRTUAL-MACHINE' : 'CONTAINER'}
                  {row.ephemeral ? ' (EPHEMERAL)' : ''}
                </div>
                <div role="gridcell" className="grid-cell">
                  {row.status.toUpperCase()}
                </div>
                <div role="gridcell" className="grid-cell">
                  <BaseImage
                    fingerprint={row.baseImage}
                    exists={row.baseImage !== null && images.has(row.baseImage)}
                    href={imageHref}
                    onOpen={onOpenImage}
                  />
                </div>
                <div
                  role="gridcell"
                  className="grid-cell"
                  title={snapshots === '' ? undefined : snapshots}
                >
                  {row.snapshots.length === 0 ? '0' : `${row.snapshots.length}: ${snapshots}`}
                </div>
                <div role="gridcell" className="grid-cell">
                  {formatDate(row.created_at)}
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
