/**
 * `npm run bench` (UI part): what a user sees, through the real UI in web
 * mode in Chromium, next to `lxc` in the same run, on a simplestreams
 * catalog of BENCH_VERSIONS versions (default 10,000) served on loopback:
 *
 * - add the remote through the UI → all rows listed, vs `lxc image list <remote>:` (cold)
 * - the same catalog already loaded: a new window on the running app → painted rows
 * - switching back to a remote whose list is loaded → painted rows
 * - a keystroke in "Filter images" → count and rows painted (median and p95), each a new
 *   term (a letter, then Backspace), typed at 10 keys a second, and back to back
 * - scrolling the catalog at a wheel's and a fling's pace: frames drawn without the rows in view
 *   (0 wanted), and the frames' intervals
 * - the renderer's JS heap and the main process's RSS with the catalog on screen
 *
 * Times are measured in the page, from the input event's time stamp to
 * performance.now() once the frame after the status shows "N of N images" and
 * a row is in the grid is drawn (a new window: from navigation start). Writes
 * bench-output/ui.json. Hangar runs in its own process, as `npm start -- --web`
 * runs it (the RSS reported is that process's), and trusts the bench servers'
 * CA through NODE_EXTRA_CA_CERTS.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_LAUNCH_OPTIONS } from '../e2e/chromium.js';
import { scrollFramesScript, type ScrolledFrames } from '../e2e/scroll-frames.js';
import { createSelfSignedCertificate } from '../electron/tls/certificate.js';
import { generateCatalog } from '../scripts/simplestreams/catalog-generator.js';
import { startSimplestreamsServer } from '../scripts/simplestreams/server.js';
import { AFTER_PAINT_SCRIPT, KEY_INTERVAL_MS, idle, median, percentile, time } from './measure.js';
import { startWebProcess, type WebProcess } from './web-process.js';

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 10_000);
const VERSIONS_PER_PRODUCT = 5;
const RUNS = Number(process.env.BENCH_UI_RUNS ?? 3);
/** Typed one at a time, each then erased: 30 keys. */
const LETTERS = ['g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u'];
const TIMEOUT = 300_000;
const run = promisify(execFile);

interface Row {
  work: string;
  lxcMs: number | null;
  hangarMs: number;
  ratio: number | null;
  goal: string;
  samples: number[];
  /** What hangarMs counts when it is not milliseconds. */
  unit?: string;
}

const dir = await mkdtemp(join(tmpdir(), 'hangar-bench-ui-'));
const generated = generateCatalog({
  products: Math.ceil(VERSIONS / VERSIONS_PER_PRODUCT),
  versionsPerProduct: VERSIONS_PER_PRODUCT,
});
const small = generateCatalog({ products: 4, versionsPerProduct: 2 });
// One certificate for both servers: one CA to trust.
const identity = await createSelfSignedCertificate({
  commonName: '127.0.0.1',
  usage: 'server',
  hosts: ['127.0.0.1'],
});
const server = await startSimplestreamsServer({ files: generated.files, identity });
const smallServer = await startSimplestreamsServer({ files: small.files, identity });
const caFile = join(dir, 'ca.pem');
await writeFile(caFile, server.ca);

/** A fresh lxc client (own config and cache) trusting the bench server through SSL_CERT_FILE. */
async function lxcClient(name: string): Promise<() => Promise<number>> {
  const env = { ...process.env, LXD_CONF: join(dir, name), SSL_CERT_FILE: caFile };
  await run(
    'lxc',
    ['remote', 'add', 'bench', server.url, '--protocol', 'simplestreams', '--public'],
    {
      env,
    },
  );
  return async () => {
    // Every default column, as CSV: lxc's table renderer alone takes seconds at 20k rows.
    const { stdout } = await run('lxc', ['image', 'list', 'bench:', '--format', 'csv'], {
      env,
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout.split('\n').filter((line) => line !== '').length;
  };
}

/** Hangar in its own process, as `npm start -- --web` runs it, trusting the bench's CA. */
const startHangar = (dataDir: string): Promise<WebProcess> =>
  startWebProcess({
    ...process.env,
    LXD_DIR: join(dir, 'no-lxd'),
    LXD_CONF: join(dir, 'no-lxc'),
    HOME: dir,
    HANGAR_DATA_DIR: dataDir,
    NODE_EXTRA_CA_CERTS: caFile,
  });

/**
 * Installed in every page: `__hangarWatch(min, max)` starts watching, and `__hangarWatched`
 * resolves with performance.now() once the status reads "N of N images" (min ≤ N ≤ max, nothing
 * filtered), the grid has a row, and the next frame's style, layout and paint are done
 * (AFTER_PAINT_SCRIPT, as bench/scale.ts measures). A string, so no bundler helper leaks into the
 * page.
 */
const PAINT_PROBE = `
window.__hangarInput = NaN;
${AFTER_PAINT_SCRIPT}
document.addEventListener('click', (event) => { window.__hangarInput = event.timeStamp; }, true);
document.addEventListener('keydown', (event) => { window.__hangarInput = event.timeStamp; }, true);
window.__hangarWatch = (min, max) => {
  window.__hangarWatched = paintedWhen(() => {
    const status = Array.from(document.querySelectorAll('[role=status]')).some((e) => {
      const match = /^(\\d+) of (\\d+) images$/.exec(e.textContent || '');
      return match !== null && match[1] === match[2] && Number(match[1]) >= min && Number(match[1]) <= max;
    });
    return status && document.querySelector('[role=grid] [role=gridcell]') !== null;
  }).then(([painted]) => painted);
};
/**
 * Resolves once the frame after the status text changes from what it is now is drawn, with
 * [drawn, frame start]: the frame's requestAnimationFrame (the figure earlier benches printed).
 */
window.__hangarStatusChange = () => {
  const text = () => document.querySelector('[role=status]')?.textContent;
  const before = text() ?? '';
  window.__hangarStatusChanged = paintedWhen(() => {
    const now = text();
    return now !== undefined && now !== before;
  });
};
`;

/**
 * Watches for a list of `min` to `max` images to be painted, from before the action that shows
 * it; the returned function waits for it. A watch begun after the action found the rows already
 * drawn when the action was quick (a switch: ~25 ms to the rows), and then timed the next frame
 * after Playwright's round trip instead of theirs.
 */
async function watchPainted(page: Page, min: number, max = 1e9): Promise<() => Promise<number>> {
  await page.evaluate(`window.__hangarWatch(${min}, ${max})`);
  return () => painted(page, min, max);
}

/** The watched list's paint (see watchPainted). */
const painted = (page: Page, min: number, max: number): Promise<number> =>
  Promise.race([
    page.evaluate<number>('window.__hangarWatched'),
    new Promise<number>((_, reject) =>
      setTimeout(
        () => reject(new Error(`no list of ${min} to ${max} images painted in time`)),
        TIMEOUT,
      ).unref(),
    ),
  ]);
/**
 * The last click's or key's own time stamp: when the browser made the event, so its way to the
 * page counts, and Playwright's round trips do not.
 */
const input = (page: Page): Promise<number> => page.evaluate<number>('window.__hangarInput');
const progress = (text: string) => console.log(`  … ${text}`);
const shown = async (page: Page): Promise<number> =>
  Number(/^(\d+)/.exec((await page.getByRole('status').first().textContent()) ?? '')?.[1]);

async function addRemoteThroughUi(page: Page, name: string, url: string): Promise<void> {
  const nav = page.getByRole('navigation', { name: 'Remotes' });
  await nav.getByRole('button', { name: 'Add remote' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add remote' });
  await dialog.getByRole('textbox', { name: 'Name' }).fill(name);
  await dialog.getByRole('radio', { name: 'Simplestreams image server' }).check();
  await dialog.getByRole('textbox', { name: 'Address' }).fill(url);
}

async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.getByRole('navigation', { name: 'Remotes' }).waitFor({ timeout: TIMEOUT });
  return page;
}

// Every version has at least one image (most have a container and a VM).
const allRows = generated.versions;
let total = 0;
const rows: Row[] = [];
const row = (work: string, samples: number[], lxc: number[] | null, goal: string) => {
  const hangarMs = median(samples);
  const lxcMs = lxc === null ? null : median(lxc);
  rows.push({
    work,
    lxcMs,
    hangarMs,
    ratio: lxcMs === null ? null : hangarMs / lxcMs,
    goal,
    samples,
  });
};

let memory = { rendererHeapMb: NaN, mainRssMb: NaN };
let browser: Browser | undefined;
let running: WebProcess | undefined;
try {
  console.log(
    `\nUI bench: simplestreams catalog of ${generated.versions} versions on ${server.url}`,
  );
  browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);

  // (a) Add the remote through the UI → all rows listed; lxc cold, each run with nothing cached.
  const add: number[] = [];
  const lxcCold: number[] = [];
  let lxcCount = 0;
  let lxcWarm: (() => Promise<number>) | undefined;
  for (let i = 0; i < RUNS; i++) {
    await running?.close();
    running = await startHangar(join(dir, `hangar-${i}`));
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await openPage(context, running.url);
    await page.evaluate(PAINT_PROBE);
    await addRemoteThroughUi(page, 'bench', server.url);
    const listed = await watchPainted(page, allRows);
    await page
      .getByRole('dialog', { name: 'Add remote' })
      .getByRole('button', { name: 'Add', exact: true })
      .click();
    const end = await listed();
    add.push(end - (await input(page)));
    total = await shown(page);
    progress(`run ${i + 1}: added and listed ${total} rows`);
    // The last run keeps going: the rest of the bench uses this app and this window.
    if (i < RUNS - 1) await context.close();
    else await measureLoaded(context, page, running);
    const lxc = await lxcClient(`lxc-${i}`);
    lxcCold.push(await time(async () => (lxcCount = await lxc())));
    lxcWarm = lxc;
  }
  row(`add remote → all ${total} rows listed`, add, lxcCold, '≤ 0.25× lxc');
  // Moved before (b) in the table; (b)–(e) were pushed by measureLoaded.
  const added = rows.pop();
  if (added !== undefined) rows.unshift(added);
  if (lxcWarm !== undefined) {
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) warm.push(await time(() => lxcWarm()));
    const newWindow = rows.find((entry) => entry.work.startsWith('new window'));
    if (newWindow !== undefined) {
      newWindow.lxcMs = median(warm);
      newWindow.ratio = newWindow.hangarMs / newWindow.lxcMs;
    }
  }
  if (lxcCount !== total) console.log(`note: lxc listed ${lxcCount} rows, Hangar ${total}`);

  await mkdir('bench-output', { recursive: true });
  await writeFile(
    'bench-output/ui.json',
    JSON.stringify({ versions: generated.versions, images: total, rows, memory }, null, 2),
  );
  console.log('');
  for (const entry of rows)
    console.log(
      `${entry.work.padEnd(52)} hangar ${entry.hangarMs.toFixed(entry.unit === undefined ? 1 : 0).padStart(8)} ${entry.unit ?? 'ms'}   lxc ${
        entry.lxcMs === null ? '       –' : entry.lxcMs.toFixed(1).padStart(8)
      } ms   ratio ${entry.ratio === null ? '   –' : entry.ratio.toFixed(2)}   goal ${entry.goal}`,
    );
  console.log(
    `memory with ${total} rows on screen: renderer JS heap ${memory.rendererHeapMb.toFixed(1)} MB, main-process RSS ${memory.mainRssMb.toFixed(1)} MB (Hangar's web-mode process: services and bridge)`,
  );
  console.log('written to bench-output/ui.json');
} finally {
  await browser?.close();
  await running?.close();
  await server.close();
  await smallServer.close();
  await rm(dir, { recursive: true, force: true });
}

/**
 * Keys in the focused filter, one every `interval` ms at most: each of `letters`, then
 * Backspace, so every letter is a filter the list has not seen yet, as when a word is typed
 * (letters past f: no fingerprint holds them, so each changes the count). From each key's event to
 * the frame after the status changed: drawn, and its start (requestAnimationFrame).
 */
async function typeKeys(
  page: Page,
  interval: number,
  letters: string[],
): Promise<{ painted: number[]; frames: number[] }> {
  const painted: number[] = [];
  const frames: number[] = [];
  for (const key of letters.flatMap((letter) => [letter, 'Backspace'])) {
    const start = performance.now();
    // Watching starts before the key is pressed: the change is seen when it happens.
    await page.evaluate('window.__hangarStatusChange()');
    await page.keyboard.press(key);
    // Typing, the page is left alone until the next key is due: asking it meanwhile (Playwright's
    // evaluate) would take its main thread in the middle of what is measured.
    await idle(start + interval - performance.now());
    const end = await page.evaluate<[number, number] | null>(
      'Promise.race([window.__hangarStatusChanged, new Promise((resolve) => setTimeout(() => resolve(null), 10000))])',
    );
    if (end === null) throw new Error(`The key "${key}" did not change the count.`);
    const at = await input(page);
    painted.push(end[0] - at);
    frames.push(end[1] - at);
  }
  return { painted, frames };
}

/** (b)–(e), on a running app whose window lists the catalog. */
async function measureLoaded(context: BrowserContext, page: Page, app: WebProcess): Promise<void> {
  // (b) A new window on the running app: from navigation start to painted rows.
  const windows: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const next = await context.newPage();
    // Watched from the page's first script on.
    await next.addInitScript(`${PAINT_PROBE}\nwindow.__hangarWatch(${allRows}, 1e9);`);
    // The fragment survives the token link's redirect: the window opens on the catalog.
    await next.goto(`${app.url}#remote=bench&project=default`);
    windows.push(await painted(next, allRows, 1e9));
    if (process.env.BENCH_UI_DEBUG !== undefined)
      console.log(
        await next.evaluate(
          `performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/')).map((e) => e.name.split('/').pop() + ' ' + Math.round(e.startTime) + '→' + Math.round(e.responseEnd)).join('\\n')`,
        ),
      );
    await next.close();
  }
  row('new window on the running app → painted rows', windows, null, '≤ 600 ms');
  progress('new windows measured');

  // (c) Switch to a small remote, then back to the loaded catalog. The window is brought to the
  // front first, as a user's window is: Chromium paces frames of a page left in the background.
  await page.bringToFront();
  await addRemoteThroughUi(page, 'other', smallServer.url);
  let other = await watchPainted(page, 1, 1000);
  await page
    .getByRole('dialog', { name: 'Add remote' })
    .getByRole('button', { name: 'Add', exact: true })
    .click();
  await other();
  const nav = page.getByRole('navigation', { name: 'Remotes' });
  const switches: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const back = await watchPainted(page, allRows);
    await nav.getByRole('link', { name: 'bench', exact: true }).click();
    const end = await back();
    switches.push(end - (await input(page)));
    other = await watchPainted(page, 1, 1000);
    await nav.getByRole('link', { name: 'other', exact: true }).click();
    await other();
  }
  const back = await watchPainted(page, allRows);
  await nav.getByRole('link', { name: 'bench', exact: true }).click();
  await back();
  row('switch back to a loaded remote → painted rows', switches, null, '≤ 150 ms');
  progress('switches measured');

  // (d) Keystrokes in "Filter images": each one changes the count (a new term, then erased). Typed at
  // a fast typist's pace, a key every KEY_INTERVAL_MS (each comes after the previous change was
  // painted); and back to back, each key sent as soon as the previous change's frame began, while
  // that frame is still being drawn (no one types that fast: each key then also waits for it).
  const filter = page.getByRole('searchbox', { name: 'Filter images' });
  await filter.focus();
  const typed = await typeKeys(page, KEY_INTERVAL_MS, LETTERS);
  const backToBack = await typeKeys(
    page,
    0,
    LETTERS.map((letter) => letter.toUpperCase()),
  );
  const keyRows: [string, number[], string][] = [
    [`keystroke in Filter images → count + rows (${total} rows)`, typed.painted, 'median ≤ 16 ms'],
    ['  the same keystrokes, p95', [percentile(typed.painted, 0.95)], '≤ 33 ms'],
    ['  the same, to the frame start (rAF), median', typed.frames, '–'],
    ['  the same, to the frame start (rAF), p95', [percentile(typed.frames, 0.95)], '–'],
    ['  keys back to back (no typing pace), median', backToBack.painted, '–'],
    ['  keys back to back, p95', [percentile(backToBack.painted, 0.95)], '–'],
  ];
  for (const [work, samples, goal] of keyRows)
    rows.push({ work, lxcMs: null, hangarMs: median(samples), ratio: null, goal, samples });

  // (e) Scrolling the catalog: 150 frames at a wheel's pace (240 px a frame) and at a fling's
  // (600 px), each from the top. Per frame: the time since the previous one, and whether the rows
  // in view were drawn in it (checked in its animation callback, after its scroll events, just
  // before it is painted).
  const unfiltered = await watchPainted(page, allRows);
  await filter.fill('');
  await unfiltered();
  for (const step of [240, 600]) {
    const { intervals, withoutRows } = await page.evaluate<ScrolledFrames>(
      scrollFramesScript(step, 150),
    );
    const missing = withoutRows.length;
    rows.push(
      {
        work: `scroll ${total} rows, ${step} px a frame: frames without their rows`,
        lxcMs: null,
        hangarMs: missing,
        ratio: null,
        goal: '0 of 150',
        samples: [missing],
        unit: 'frames',
      },
      {
        work: '  the same, frame interval median',
        lxcMs: null,
        hangarMs: median(intervals),
        ratio: null,
        goal: '– (60 Hz: 16.7)',
        samples: intervals,
      },
      {
        work: '  the same, frame interval p95',
        lxcMs: null,
        hangarMs: percentile(intervals, 0.95),
        ratio: null,
        goal: '–',
        samples: [percentile(intervals, 0.95)],
      },
    );
  }
  progress('scrolling measured');

  // (f) Memory with the catalog on screen.
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  memory = {
    rendererHeapMb: heap.usedSize / 1e6,
    mainRssMb: await app.rssMb(),
  };
}
