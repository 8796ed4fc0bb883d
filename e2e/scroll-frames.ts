/**
 * Scrolls the image table from the top, `step` px a frame for `frames` frames, in the page (a
 * string, so no bundler helper leaks into it). Evaluated, it gives each frame's interval and the
 * frames that were drawn without every row in view: checked in the frame's animation callback,
 * which runs after its scroll events and just before it is drawn. The e2e tests and the UI bench
 * both use it.
 */
export interface ScrolledFrames {
  intervals: number[];
  /** The frames (0-based) in which a row in view was missing or empty. */
  withoutRows: number[];
}

export const scrollFramesScript = (step: number, frames: number): string => `(async () => {
  const grid = document.querySelector('[role=grid][aria-label=Images]');
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  grid.scrollTop = 0;
  await frame();
  const [headGroup, body] = grid.querySelectorAll('[role=rowgroup]');
  const head = headGroup.offsetHeight;
  const height = body.querySelector('[role=row]').offsetHeight;
  const drawn = (index) => {
    const row = grid.querySelector('[role=row][aria-rowindex="' + (index + 2) + '"]');
    return row !== null && row.textContent !== '';
  };
  const intervals = [];
  const withoutRows = [];
  let last = await frame();
  for (let i = 0; i < ${frames}; i++) {
    grid.scrollTop += ${step};
    const now = await frame();
    intervals.push(now - last);
    last = now;
    const first = Math.floor(grid.scrollTop / height);
    const end = Math.floor((grid.scrollTop + grid.clientHeight - head - 1) / height);
    if (!drawn(first) || !drawn(end)) withoutRows.push(i);
  }
  grid.scrollTop = 0;
  return { intervals, withoutRows };
})()`;
