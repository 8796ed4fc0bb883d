/**
 * A table and its details pane side by side. The pane's width is the user's: the handle
 * between them is dragged, or focused and moved with the arrow keys (the APG window splitter,
 * the pane being its primary pane), and the width is kept for the next session. The table keeps
 * at least TABLE_MIN px whatever the width asked, also when the window narrows.
 */
import {
  useLayoutEffect,
  useRef,
  useState,
  type CSSProperties,
  type KeyboardEvent,
  type ReactNode,
} from 'react';

export const PANE_DEFAULT = 420;
export const PANE_MIN = 280;
const TABLE_MIN = 360;
/** The split's gap, which the handle sits in. */
const GAP = 12;
const STEP = 16;
const STORAGE_KEY = 'hangar.detailsWidth';

function storedWidth(): number {
  try {
    const stored = Number(localStorage.getItem(STORAGE_KEY));
    return Number.isInteger(stored) && stored >= PANE_MIN ? stored : PANE_DEFAULT;
  } catch {
    // Storage refused (a locked-down profile): the default, every session.
    return PANE_DEFAULT;
  }
}

function storeWidth(width: number): void {
  try {
    localStorage.setItem(STORAGE_KEY, String(width));
  } catch {
    // Not kept: the width still applies until the window closes.
  }
}

export function DetailsSplit({
  table,
  details,
  paneShown,
}: {
  table: ReactNode;
  details: ReactNode;
  /** The pane is on screen (the handle is shown with it). */
  paneShown: boolean;
}) {
  const splitRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(storedWidth);
  const drag = useRef<{ x: number; width: number } | undefined>(undefined);
  // Observed, not read while drawing: the screen draws again on every keystroke in its filter,
  // and reading layout there would force it each time.
  const [splitWidth, setSplitWidth] = useState(0);
  useLayoutEffect(() => {
    const element = splitRef.current;
    if (element === null) return;
    const observer = new ResizeObserver(() => setSplitWidth(element.clientWidth));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  /** The widest the pane may be: the table keeps TABLE_MIN. */
  const widest = Math.max(PANE_MIN, splitWidth - TABLE_MIN - GAP);
  // What is on screen: CSS narrows the pane below the width asked when the window is narrow.
  const shown = Math.min(width, widest);
  const resize = (wanted: number, keep: boolean) => {
    const next = Math.round(Math.min(widest, Math.max(PANE_MIN, wanted)));
    setWidth(next);
    if (keep) storeWidth(next);
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const step = event.shiftKey ? STEP * 4 : STEP;
    const moves: Record<string, number> = {
      // The handle moves left: the pane grows.
      ArrowLeft: shown + step,
      ArrowRight: shown - step,
      Home: PANE_MIN,
      End: widest,
    };
    const wanted = moves[event.key];
    if (wanted === undefined) return;
    event.preventDefault();
    resize(wanted, true);
  };

  return (
    <div
      ref={splitRef}
      className="split"
      style={{ '--details-width': `${width}px`, '--table-min': `${TABLE_MIN}px` } as CSSProperties}
    >
      {table}
      {paneShown ? (
        <div
          role="separator"
          aria-orientation="vertical"
          aria-label="Details pane width"
          aria-valuenow={shown}
          aria-valuemin={PANE_MIN}
          aria-valuemax={widest}
          tabIndex={0}
          className="pane-handle"
          title="Drag to resize the details pane (double-click: default width)"
          onKeyDown={onKeyDown}
          onDoubleClick={() => resize(PANE_DEFAULT, true)}
          onPointerDown={(event) => {
            if (event.button !== 0) return;
            event.currentTarget.setPointerCapture(event.pointerId);
            drag.current = { x: event.clientX, width: shown };
          }}
          onPointerMove={(event) => {
            const start = drag.current;
            if (start !== undefined) resize(start.width + start.x - event.clientX, false);
          }}
          onPointerUp={() => {
            if (drag.current === undefined) return;
            drag.current = undefined;
            storeWidth(shown);
          }}
          onLostPointerCapture={() => {
            drag.current = undefined;
          }}
        />
      ) : null}
      {details}
    </div>
  );
}
