/**
 * `npm run bench`: Hangar against the `lxc` CLI, in one run, on the same
 * sandbox daemon and the same images. Prints medians and ratios
 * (Hangar / lxc: below 1 means Hangar is faster).
 *
 * BENCH_IMAGES sets how many images the bench project holds (default 1000),
 * loaded by bench/load-images.ts; bench/scale.ts drives the UI at 5,000.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { CHROMIUM_LAUNCH_OPTIONS } from '../e2e/chromium.js';
import { dispatch } from '../electron/dispatch.js';
import { createHangar } from '../electron/hangar.js';
import { plaintextCodec } from '../electron/remotes/identity.js';
import { startWebMode } from '../electron/web.js';
import { filterImages, parseFilter } from '../shared/images/filter.js';
import type { LxdImage } from '../shared/lxd.js';
import { startDaemon } from '../scripts/sandbox/daemon.js';
import { loadTinyImages } from './load-images.js';
import { median, percentile, report, time } from './measure.js';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 1000);
// LXD itself needs about a second per thousand images to list them: fewer runs for big stores.
const RUNS = IMAGES > 2000 ? 1 : 9;
const PROJECT = 'bench';

/** Alternates the two sides run by run, so drift on the machine hits both alike. */
async function compare(
  name: string,
  hangar: () => Promise<unknown>,
  lxc: () => Promise<unknown>,
): Promise<void> {
  if (RUNS > 1) {
    await hangar();
    await lxc();
  }
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ours.push(await time(hangar));
    theirs.push(await time(lxc));
  }
  report(name, median(ours), median(theirs));
}

const dir = await mkdtemp(join(tmpdir(), 'hangar-bench-'));
const daemon = await startDaemon(join(dir, 'lxd'));
const env = {
  ...process.env,
  LXD_DIR: daemon.dir,
  HANGAR_DATA_DIR: join(dir, 'hangar-data'),
};
const lxc = (...args: string[]) => daemon.lxc(args);

try {
  console.log(`Loading ${IMAGES} images into project "${PROJECT}" of a sandbox LXD…`);
  const loadMs = await loadTinyImages({ daemon, dir, project: PROJECT, count: IMAGES });
  console.log(`Loaded in ${(loadMs / 1000).toFixed(1)} s.\n`);

  const hangar = await createHangar({
    env,
    dataDir: env.HANGAR_DATA_DIR,
    secrets: plaintextCodec('benchmark'),
  });
  const list = async () => {
    const envelope = await dispatch(hangar.handlers, 'images.list', {
      remote: 'local',
      project: PROJECT,
    });
    if (!envelope.ok) throw new Error(envelope.error.message);
    return envelope.value as LxdImage[];
  };
  await compare(`list ${IMAGES} images`, list, () =>
    lxc('image', 'list', '--project', PROJECT, '--format', 'csv'),
  );
  // LXD 5.0 drops images from a full listing when its database is slow; Hangar reads them back.
  const hangarCount = (await list()).length;
  const lxcCount = (await lxc('image', 'list', '--project', PROJECT, '--format', 'csv', '-c', 'f'))
    .split('\n')
    .filter((line) => line !== '').length;
  console.log(`images listed of ${IMAGES}: hangar ${hangarCount}, lxc ${lxcCount}`);
  await compare(
    `filter ${IMAGES} images by os=Debian release=r1`,
    async () => filterImages(await list(), parseFilter('os=Debian release=r1')),
    () => lxc('image', 'list', '--project', PROJECT, 'os=Debian', 'release=r1', '--format', 'csv'),
  );
  await compare(
    `filter ${IMAGES} images by alias substring "/12"`,
    async () => filterImages(await list(), ['/12']),
    () => lxc('image', 'list', '--project', PROJECT, '/12', '--format', 'csv'),
  );
  await hangar.close();

  // The GUI end to end: from opening the page to the first painted table, against `lxc image list`.
  const web = await startWebMode({ env, staticDir: 'dist/renderer' });
  const browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
  try {
    const paints: number[] = [];
    const cli: number[] = [];
    const frames: number[] = [];
    for (let i = 0; i < (IMAGES > 2000 ? 2 : 5); i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      // The fragment survives the token link's redirect: the page opens on the bench project.
      await page.goto(`${web.url}#project=${PROJECT}`);
      await page
        .getByRole('status')
        .filter({ hasText: `${IMAGES} of ${IMAGES} images` })
        .waitFor({ timeout: 300_000 });
      const painted = await page.evaluate(
        () => performance.getEntriesByName('hangar:first-table-paint')[0]?.startTime ?? NaN,
      );
      paints.push(painted);
      cli.push(await time(() => lxc('image', 'list', '--project', PROJECT)));
      if (i === 0) {
        // Scroll the whole table in steps and record the frame times the browser achieves.
        const sample = await page
          .getByRole('grid', { name: 'Images' })
          .evaluate(
            async (grid: { scrollTop: number; clientHeight: number; scrollHeight: number }) => {
              // Runs in the page: only what it touches is typed here, and no named functions
              // (tsx would wrap them in a helper the page does not have).
              const raf = (
                globalThis as unknown as { requestAnimationFrame: (callback: () => void) => void }
              ).requestAnimationFrame;
              const times: number[] = [];
              let last = performance.now();
              while (grid.scrollTop + grid.clientHeight < grid.scrollHeight - 1) {
                grid.scrollTop += 240;
                await new Promise((resolve) => raf(() => resolve(undefined)));
                const now = performance.now();
                times.push(now - last);
                last = now;
              }
              return times;
            },
          );
        frames.push(...sample);
      }
      await context.close();
    }
    const paint = median(paints);
    const table = median(cli);
    console.log(
      `${'open web UI to first painted table'.padEnd(44)} hangar ${paint.toFixed(1).padStart(8)} ms   lxc ${table.toFixed(1).padStart(8)} ms   ratio ${(paint / table).toFixed(2)}   (lxc image list, table output)`,
    );
    console.log(
      `scrolling ${IMAGES} rows: ${frames.length} frames, median ${median(frames).toFixed(1)} ms, p95 ${percentile(frames, 0.95).toFixed(1)} ms, max ${Math.max(...frames).toFixed(1)} ms`,
    );
  } finally {
    await browser.close();
    await web.close();
  }
} finally {
  await daemon.stop({ removeFiles: true });
  await rm(dir, { recursive: true, force: true });
}
