/**
 * `npm run bench` (export as a browser download): web mode's export
 * (GET /api/export, saved to disk by Chromium, seen through Playwright's
 * download event) against `lxc image export` into a folder, on the same
 * sandbox daemon and the real-sized bench images (scripts/bench-image).
 * Also times the same response fetched by curl into a file, which splits
 * Hangar's part (LXD → bridge) from Chromium's download writer.
 *
 * Medians of BENCH_EXPORT_RUNS (default 3) after an untimed warm-up of each
 * side, with `sync` between runs; goal: browser ≤ 1.05× lxc.
 * Writes bench-output/export-download.json.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { chromium } from 'playwright-core';
import { CHROMIUM_LAUNCH_OPTIONS } from '../e2e/chromium.js';
import { startWebMode } from '../electron/web.js';
import { benchImages } from '../scripts/bench-image/build.js';
import { exec, startDaemon } from '../scripts/sandbox/daemon.js';
import { median, time } from './measure.js';

const RUNS = Number(process.env.BENCH_EXPORT_RUNS ?? 3);
const GOAL = 1.05;
const MB = 1024 * 1024;

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

// BENCH_EXPORT_IMAGES=debian-minbase (comma-separated names) measures only those.
const only = process.env.BENCH_EXPORT_IMAGES?.split(',');
const images = (await benchImages()).filter(
  (image) => only === undefined || only.includes(image.name),
);
const dir = await mkdtemp(join(tmpdir(), 'hangar-bench-export-'));
const daemon = await startDaemon(join(dir, 'lxd'));
const env = { ...process.env, LXD_DIR: daemon.dir, HANGAR_DATA_DIR: join(dir, 'hangar-data') };
const lxc = (...args: string[]) => daemon.lxc(args);

interface Row {
  image: string;
  bytes: number;
  runs: number;
  lxcMs: number;
  browserMs: number;
  curlMs: number;
  ratio: number;
  curlRatio: number;
  goal: number;
  met: boolean;
  samples: { lxc: number[]; browser: number[]; curl: number[] };
}
const rows: Row[] = [];

const web = await startWebMode({ env, staticDir: 'dist/renderer' });
const browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
try {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  // The token link sets the cookie that /api/export needs; the page is Hangar's own origin.
  await page.goto(web.url);
  const origin = new URL(web.url).origin;
  const cookie = (await context.cookies(origin)).map((c) => `${c.name}=${c.value}`).join('; ');

  for (const image of images) {
    await lxc('image', 'import', image.path, '--alias', image.name);
    const query = new URLSearchParams({ remote: 'local', fingerprint: image.fingerprint });
    const href = `/api/export?${query.toString()}`;
    const samples = { lxc: [] as number[], browser: [] as number[], curl: [] as number[] };
    const viaLxc = async (check: boolean) => {
      const out = join(dir, 'lxc');
      await mkdir(out);
      const ms = await time(() => lxc('image', 'export', image.fingerprint, `${out}/`));
      const [exported] = await readdir(out);
      if (exported === undefined || (await stat(join(out, exported))).size !== image.bytes)
        throw new Error(`lxc exported a short file for ${image.name}`);
      if (check && (await sha256(join(out, exported))) !== image.fingerprint)
        throw new Error(`lxc exported other bytes than ${image.name}`);
      await rm(out, { recursive: true, force: true });
      return ms;
    };
    const viaBrowser = async (check: boolean) => {
      let saved = '';
      const ms = await time(async () => {
        const downloading = page.waitForEvent('download', { timeout: 600_000 });
        // As the renderer does (renderer/api/web-transport.ts): a link with `download`.
        await page.evaluate(
          `(() => { const link = document.createElement('a'); link.href = ${JSON.stringify(href)}; link.download = ''; document.body.append(link); link.click(); link.remove(); })()`,
        );
        const download = await downloading;
        // Resolves once Chromium has written the whole file to disk.
        saved = await download.path();
        const failure = await download.failure();
        if (failure !== null) throw new Error(`the browser download failed: ${failure}`);
      });
      if ((await stat(saved)).size !== image.bytes)
        throw new Error(`the browser saved ${(await stat(saved)).size} bytes, not ${image.bytes}`);
      if (check && (await sha256(saved)) !== image.fingerprint)
        throw new Error(`the browser saved other bytes than ${image.name}`);
      await rm(saved, { force: true });
      return ms;
    };
    const viaCurl = async () => {
      const file = join(dir, 'curl');
      const ms = await time(() =>
        exec('curl', ['-sSf', '-o', file, '-H', `Cookie: ${cookie}`, `${origin}${href}`], env),
      );
      if ((await stat(file)).size !== image.bytes) throw new Error('curl got a short file');
      await rm(file, { force: true });
      return ms;
    };
    // Dirty pages of the previous run are written out before the next one starts.
    const settle = () => exec('sync', [], env);
    // Untimed warm-up (and the content checks): the image in the page cache, Chromium's first
    // download of the context done.
    await viaLxc(true);
    await viaBrowser(true);
    await settle();
    for (let i = 0; i < RUNS; i++) {
      // Alternating which side goes first, so drift on the machine hits both alike.
      if (i % 2 === 0) {
        samples.lxc.push(await viaLxc(false));
        await settle();
        samples.browser.push(await viaBrowser(false));
      } else {
        samples.browser.push(await viaBrowser(false));
        await settle();
        samples.lxc.push(await viaLxc(false));
      }
      await settle();
      samples.curl.push(await viaCurl());
      await settle();
    }
    const lxcMs = median(samples.lxc);
    const browserMs = median(samples.browser);
    const curlMs = median(samples.curl);
    rows.push({
      image: image.name,
      bytes: image.bytes,
      runs: RUNS,
      lxcMs,
      browserMs,
      curlMs,
      ratio: browserMs / lxcMs,
      curlRatio: curlMs / lxcMs,
      goal: GOAL,
      met: browserMs / lxcMs <= GOAL,
      samples,
    });
    await lxc('image', 'delete', image.fingerprint);
  }
  await context.close();
} finally {
  await browser.close();
  await web.close();
  await daemon.stop({ removeFiles: true });
  await rm(dir, { recursive: true, force: true });
}

console.log(
  `\nExport as a browser download (web mode, Chromium) vs lxc image export, medians of ${RUNS}`,
);
console.log(
  `${'image'.padEnd(16)} ${'size'.padStart(9)} ${'lxc'.padStart(9)} ${'browser'.padStart(9)} ${'ratio'.padStart(6)} ${'curl'.padStart(9)} ${'ratio'.padStart(6)}  goal ≤ ${GOAL}`,
);
for (const row of rows)
  console.log(
    `${row.image.padEnd(16)} ${`${(row.bytes / MB).toFixed(0)} MB`.padStart(9)} ${`${row.lxcMs.toFixed(0)} ms`.padStart(9)} ${`${row.browserMs.toFixed(0)} ms`.padStart(9)} ${row.ratio.toFixed(2).padStart(6)} ${`${row.curlMs.toFixed(0)} ms`.padStart(9)} ${row.curlRatio.toFixed(2).padStart(6)}  ${row.met ? 'met' : 'NOT MET'}`,
  );
await mkdir('bench-output', { recursive: true });
await writeFile('bench-output/export-download.json', `${JSON.stringify({ rows }, null, 2)}\n`);
console.log('Written to bench-output/export-download.json');
