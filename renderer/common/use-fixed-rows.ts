/**
 * Virtualization for a grid of rows of one fixed height: which rows are in
 * view, computed from the scroll position alone. O(1) whatever the row
 * count, so a filter that takes 20,000 rows to 5 and back costs nothing
 * here (a measuring virtualizer walks every row each time the count changes).
 */
import { useCallback, useLayoutEffect, useState, type RefObject } from 'react';
import { flushSync } from 'react-dom';

interface Viewport {
  top: number;
  height: number;
  /** The sticky header's height: rows start below it. */
  head: number;
}

export function useFixedRows(
  scrollRef: RefObject<HTMLElement | null>,
  headRef: RefObject<HTMLElement | null>,
  count: number,
  rowHeight: number,
  overscan: number,
) {
  const [viewport, setViewport] = useState<Viewport>({ top: 0, height: 0, head: 0 });
  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (element === null) return;
    const update = () =>
      setViewport({
        top: element.scrollTop,
        height: element.clientHeight,
        head: headRef.current?.offsetHeight ?? 0,
      });
    // Scroll events come in the frame that paints the new position: the rows coming into view are
    // drawn now, in this frame (a state update left to React's scheduler painted them a frame
    // late, so each frame of a fast scroll showed an empty strip at the edge).
    const scrolled = () => flushSync(update);
    update();
    element.addEventListener('scroll', scrolled, { passive: true });
    const resize = new ResizeObserver(update);
    resize.observe(element);
    return () => {
      element.removeEventListener('scroll', scrolled);
      resize.disconnect();
    };
  }, [scrollRef, headRef]);

  const visibleFirst = Math.floor(viewport.top / rowHeight);
  const visibleLast = Math.floor((viewport.top + viewport.height - viewport.head - 1) / rowHeight);
  const first = Math.max(0, Math.min(count - 1, visibleFirst - overscan));
  const last = Math.min(count - 1, Math.max(visibleLast, visibleFirst) + overscan);

  /** Scrolls as little as needed for the row to be in full view below the header. */
  const scrollToIndex = useCallback(
    (index: number) => {
      const element = scrollRef.current;
      if (element === null) return;
      const head = headRef.current?.offsetHeight ?? 0;
      const top = index * rowHeight;
      const bottom = head + (index + 1) * rowHeight;
      if (top < element.scrollTop) element.scrollTop = top;
      else if (bottom > element.scrollTop + element.clientHeight)
        element.scrollTop = bottom - element.clientHeight;
    },
    [scrollRef, headRef, rowHeight],
  );

  return {
    first,
    last,
    /** The rows' height in all: the body's size, so the scroll bar is the list's. */
    totalHeight: count * rowHeight,
    scrollToIndex,
  };
}
