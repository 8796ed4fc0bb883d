import { performance } from 'node:perf_hooks';

export const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

export const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ??
  NaN;

export async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function report(name: string, hangar: number, lxc: number): void {
  console.log(
    `${name.padEnd(44)} hangar ${hangar.toFixed(1).padStart(8)} ms   lxc ${lxc.toFixed(1).padStart(8)} ms   ratio ${(hangar / lxc).toFixed(2)}`,
  );
}

/**
 * Keystrokes are measured at a fast typist's pace, a key every 100 ms (10 keys a second, about
 * 120 words a minute): each comes after the previous change was painted.
 */
export const KEY_INTERVAL_MS = 100;

/** Waits `ms` (nothing when it is zero or less). */
export const idle = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Page script (a string: the bench is not typed for the DOM) defining two functions.
 *
 * `afterPaint(callback)` calls back with performance.now() and the frame's start once the next
 * frame's rendering task (its requestAnimationFrame callbacks, style, layout, paint and commit)
 * has ended. The callback is a user-blocking task, which the page runs right after that task; a
 * message-channel task, as the bench used before, waited behind every task queued meanwhile (the
 * answers a new window's other calls brought), and read a new window's rows 50–100 ms after their
 * frame was painted.
 *
 * `paintedWhen(holds)` resolves with [painted, frame start] (as afterPaint calls back) once
 * `holds()` is true and the next frame is drawn. It is checked now and on every change of the
 * page's nodes, text or attributes, not polled once a frame, which would see a change a frame late.
 */
export const AFTER_PAINT_SCRIPT = `
const afterPaint = (callback) => requestAnimationFrame(() => {
  const frame = performance.now();
  scheduler.postTask(() => callback(performance.now(), frame), { priority: 'user-blocking' });
});
const paintedWhen = (holds) => new Promise((resolve) => {
  const painted = () => afterPaint((now, frame) => resolve([now, frame]));
  if (holds()) { painted(); return; }
  const observer = new MutationObserver(() => {
    if (!holds()) return;
    observer.disconnect();
    painted();
  });
  observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
});
`;
