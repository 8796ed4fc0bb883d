/**
 * Loads N tiny, distinct unified images (gzip tarballs of a metadata.yaml and
 * an empty rootfs/) into a project of a sandbox daemon, through LXD's API
 * over its socket with `concurrency` uploads in flight, each with one alias
 * `bench/<n>`. Shared by bench/run.ts and bench/scale.ts.
 *
 * Image n has os (5 values), release (r0…r12), architecture (aarch64 for every
 * 7th) and a creation date that differ, so filters and sorts have work to do.
 */
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxDaemon } from '../scripts/sandbox/daemon.js';
import { tar } from '../scripts/sandbox/tar.js';
import { uploadImage } from '../scripts/sandbox/upload.js';

export const OSES = ['Debian', 'Ubuntu', 'Alpine', 'Fedora', 'Arch'];

export function tinyImage(n: number): Buffer {
  const os = OSES[n % OSES.length] ?? 'Debian';
  const metadata = `architecture: ${n % 7 === 0 ? 'aarch64' : 'x86_64'}\ncreation_date: ${1_700_000_000 + n}\nproperties:\n  os: ${os}\n  release: r${n % 13}\n  description: ${os} image number ${n}\n`;
  return gzipSync(tar([{ path: 'metadata.yaml', content: metadata }, { path: 'rootfs' }]));
}

export interface LoadOptions {
  daemon: SandboxDaemon;
  /** Scratch folder for the tarballs (removed afterwards). */
  dir: string;
  project: string;
  count: number;
  /** Uploads in flight at once (default 8). */
  concurrency?: number;
  /** Called now and then with the number of images loaded. */
  onProgress?: (loaded: number) => void;
}

/** Creates the project (images of its own) and loads the images; returns the wall time in ms. */
export async function loadTinyImages(options: LoadOptions): Promise<number> {
  const { daemon, project, count } = options;
  const concurrency = options.concurrency ?? 8;
  await daemon.lxc([
    'project',
    'create',
    project,
    '-c',
    'features.images=true',
    '-c',
    'features.profiles=false',
  ]);
  const scratch = join(options.dir, `tiny-images-${project}`);
  await mkdir(scratch, { recursive: true });
  const start = performance.now();
  let next = 0;
  let loaded = 0;
  // A pool of workers, each taking the next index: no batch waits for its slowest upload.
  const worker = async () => {
    for (let n = next++; n < count; n = next++) {
      const file = join(scratch, `image-${n}.tar.gz`);
      await writeFile(file, tinyImage(n));
      await uploadImage(daemon.socket, [file], {
        project,
        aliases: [{ name: `bench/${n}`, description: '' }],
      });
      await rm(file);
      loaded += 1;
      if (loaded % 500 === 0) options.onProgress?.(loaded);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const elapsed = performance.now() - start;
  await rm(scratch, { recursive: true, force: true });
  return elapsed;
}
