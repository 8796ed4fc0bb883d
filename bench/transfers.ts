/**
 * `npm run bench` (third part): real-sized images (a Debian minbase rootfs,
 * and a ≥ 1 GiB uncompressed variant; built once with debootstrap and
 * cached) imported and exported by Hangar's services and by `lxc image
 * import` / `lxc image export`, in one run on the same sandbox daemon.
 * Prints wall-time ratios and the growth of Hangar's resident memory.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

const images = await benchImages();
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
    report(`import ${image.name}`, median(imported.hangar), median(imported.lxc));
    report(`export ${image.name}`, median(exported.hangar), median(exported.lxc));
    console.log(`peak RSS growth of Hangar's process: ${(rss / MB).toFixed(1)} MB`);
  }
  await hangar.close();
} finally {
  await daemon.stop();
  await rm(dir, { recursive: true, force: true });
}
