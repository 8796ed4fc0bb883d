/**
 * `npm run bench` (third part): real-sized images (a Debian minbase rootfs,
 * and a ≥ 1 GiB uncompressed variant; built once with debootstrap and
 * cached) imported and exported by Hangar's services and by `lxc image
 * import` / `lxc image export`, in one run on the same sandbox daemon.
 * Prints wall-time ratios and the growth of Hangar's resident memory.
 *
 * Then the same imports as a user makes them in web mode: the file picked
 * in Chromium ("Choose image files", which streams it from disk), Import
 * clicked, until the operation succeeded; against `lxc image import`, with
 * the peak RSS growth of the process (the bridge and services run here) and
 * its event-loop delay during the import (perf_hooks.monitorEventLoopDelay).
 * BENCH_TRANSFER_UI=0 skips that part.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { openBridgeSocket } from '../scripts/bridge-socket.js';
import { CHROMIUM_LAUNCH_OPTIONS } from '../e2e/chromium.js';
import { startWebMode } from '../electron/web.js';
import { join } from 'node:path';
import type { OperationSummary } from '../shared/contract.js';
import { dispatch } from '../electron/dispatch.js';
import { watchOperation } from '../electron/operations/watch.js';
import { createHangar, type Hangar } from '../electron/hangar.js';
import { plaintextCodec } from '../electron/remotes/identity.js';
import { startDaemon } from '../scripts/sandbox/daemon.js';
import { benchImages } from '../scripts/bench-image/build.js';
import { median, report, time } from './measure.js';

const RUNS = Number(process.env.BENCH_TRANSFER_RUNS ?? 3);

/** BENCH_TRANSFER_IMAGES=debian-minbase runs one of them. */
const images = (await benchImages()).filter(
  (image) =>
    process.env.BENCH_TRANSFER_IMAGES === undefined ||
    process.env.BENCH_TRANSFER_IMAGES.split(',').includes(image.name),
);
const dir = await mkdtemp(join(tmpdir(), 'hangar-bench-transfers-'));
const daemon = await startDaemon(join(dir, 'lxd'));
const lxc = (...args: string[]) => daemon.lxc(args);

/** Runs one Hangar operation to its end, sampling the process's RSS meanwhile. */
async function operation(
  hangar: Hangar,
  name: 'images.importFiles' | 'images.export',
  input: unknown,
): Promise<{ summary: OperationSummary; rssGrowth: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    const started = await dispatch(hangar.handlers, name, input);
    if (!started.ok) throw new Error(started.error.message);
    const id = (started.value as OperationSummary).id;
    const summary = await watchOperation(hangar.handlers, id, { timeoutMs: 600_000 });
    if (summary.state !== 'succeeded') throw new Error(summary.error?.message ?? summary.state);
    return { summary, rssGrowth: peak - baseline };
  } finally {
    clearInterval(sampler);
  }
}

const MB = 1024 * 1024;

/** Drop-imports through the real UI in web mode (Chromium), against lxc image import. */
async function uiImports(): Promise<void> {
  const web = await startWebMode({
    env: { ...process.env, LXD_DIR: daemon.dir, HANGAR_DATA_DIR: join(dir, 'hangar-web') },
    staticDir: 'dist/renderer',
  });
  const browser = await chromium.launch(CHROMIUM_LAUNCH_OPTIONS);
  try {
    const page = await browser.newPage();
    await page.goto(web.url);
    interface Listed {
      id: string;
      kind: string;
      state: string;
      error?: { message: string };
    }
    // The bridge's socket, as the page uses it.
    const link = new URL(web.url);
    const socket = await openBridgeSocket(`ws://${link.host}/api/socket`, {
      authorization: `Bearer ${link.searchParams.get('token') ?? ''}`,
      origin: link.origin,
    });
    const listOperations = async () =>
      ((await socket.call('operations.list', {})) as { value?: Listed[] }).value ?? [];
    const onlyLarge = process.env.BENCH_TRANSFER_UI_IMAGES ?? 'debian-minbase,debian-large';
    for (const image of images.filter((candidate) =>
      onlyLarge.split(',').includes(candidate.name),
    )) {
      const samples = { ui: [] as number[], lxc: [] as number[] };
      let rss = 0;
      const lag = { max: 0, p99: 0, mean: 0 };
      for (let i = 0; i < RUNS; i++) {
        samples.lxc.push(await time(() => lxc('image', 'import', image.path)));
        await lxc('image', 'delete', image.fingerprint);
        await page.getByLabel('Choose image files').setInputFiles(image.path);
        const dialog = page.getByRole('dialog', { name: 'Import image' });
        await dialog.waitFor();
        const before = new Set((await listOperations()).map((operation) => operation.id));
        const baseline = process.memoryUsage.rss();
        let peak = baseline;
        const sampler = setInterval(() => {
          peak = Math.max(peak, process.memoryUsage.rss());
        }, 20);
        const delay = monitorEventLoopDelay({ resolution: 5 });
        delay.enable();
        try {
          samples.ui.push(
            await time(async () => {
              await dialog.getByRole('button', { name: 'Import', exact: true }).click();
              // Until the operation is done (the import this click started: not one before it).
              for (;;) {
                const operations = (await listOperations()).filter(
                  (operation) => operation.kind === 'import' && !before.has(operation.id),
                );
                const failed = operations.find((operation) => operation.state === 'failed');
                if (failed !== undefined) throw new Error(failed.error?.message ?? 'import failed');
                if (operations.some((operation) => operation.state === 'succeeded')) break;
                await new Promise((resolve) => setTimeout(resolve, 20));
              }
            }),
          );
        } finally {
          delay.disable();
          clearInterval(sampler);
        }
        rss = Math.max(rss, peak - baseline);
        lag.max = Math.max(lag.max, delay.max / 1e6);
        lag.p99 = Math.max(lag.p99, delay.percentile(99) / 1e6);
        lag.mean = Math.max(lag.mean, delay.mean / 1e6);
        await lxc('image', 'delete', image.fingerprint);
        await page
          .getByRole('button', { name: 'Clear finished' })
          .click()
          .catch(() => undefined);
      }
      report(`UI drop-import ${image.name} (web mode)`, median(samples.ui), median(samples.lxc));
      console.log(
        `  samples ui ${samples.ui.map((ms) => ms.toFixed(0)).join(', ')} ms; lxc ${samples.lxc.map((ms) => ms.toFixed(0)).join(', ')} ms`,
      );
      console.log(
        `  peak RSS growth ${(rss / MB).toFixed(1)} MB; event-loop delay (worst run) max ${lag.max.toFixed(1)} ms, p99 ${lag.p99.toFixed(1)} ms, mean ${lag.mean.toFixed(1)} ms`,
      );
    }
  } finally {
    await browser.close();
    await web.close();
  }
}

try {
  const hangar = await createHangar({
    env: { ...process.env, LXD_DIR: daemon.dir },
    dataDir: join(dir, 'hangar-data'),
    secrets: plaintextCodec('benchmark'),
  });
  for (const image of images) {
    console.log(
      `\n${image.name}: ${(image.bytes / MB).toFixed(0)} MB file, ${(image.uncompressedBytes / MB).toFixed(0)} MB uncompressed`,
    );
    const imported = { hangar: [] as number[], lxc: [] as number[] };
    const exported = { hangar: [] as number[], lxc: [] as number[] };
    let rss = 0;
    for (let i = 0; i < RUNS; i++) {
      imported.lxc.push(await time(() => lxc('image', 'import', image.path)));
      await lxc('image', 'delete', image.fingerprint);
      imported.hangar.push(
        await time(async () => {
          const { rssGrowth } = await operation(hangar, 'images.importFiles', {
            remote: 'local',
            files: [{ path: image.path }],
            aliases: [],
            public: false,
            properties: {},
          });
          rss = Math.max(rss, rssGrowth);
        }),
      );

      const out = join(dir, `export-${i}`);
      await mkdir(join(out, 'lxc'), { recursive: true });
      await mkdir(join(out, 'hangar'), { recursive: true });
      exported.lxc.push(
        await time(() => lxc('image', 'export', image.fingerprint, `${join(out, 'lxc')}/`)),
      );
      exported.hangar.push(
        await time(async () => {
          const { rssGrowth } = await operation(hangar, 'images.export', {
            remote: 'local',
            fingerprint: image.fingerprint,
            directory: join(out, 'hangar'),
          });
          rss = Math.max(rss, rssGrowth);
        }),
      );
      await rm(out, { recursive: true, force: true });
      await lxc('image', 'delete', image.fingerprint);
    }
    // The samples too: a median of three hides how far apart they were (a first export of a
    // freshly built image once read 1.29× where seven runs read 0.64×).
    const samples = ({ hangar, lxc: cli }: { hangar: number[]; lxc: number[] }) =>
      `  samples hangar ${hangar.map((ms) => ms.toFixed(0)).join(', ')} ms; lxc ${cli.map((ms) => ms.toFixed(0)).join(', ')} ms`;
    report(`import ${image.name}`, median(imported.hangar), median(imported.lxc));
    console.log(samples(imported));
    report(`export ${image.name}`, median(exported.hangar), median(exported.lxc));
    console.log(samples(exported));
    console.log(`peak RSS growth of Hangar's process: ${(rss / MB).toFixed(1)} MB`);
  }
  await hangar.close();
  if (process.env.BENCH_TRANSFER_UI !== '0') await uiImports();
} finally {
  await daemon.stop({ removeFiles: true });
  await rm(dir, { recursive: true, force: true });
}
