/**
 * Hangar in web mode in its own process, as a user runs it (`npm start -- --web`): the bench's
 * Playwright client, its timers and its garbage then do not share the services' event loop.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export interface WebProcess {
  url: string;
  /** The process's resident memory now, from /proc. */
  rssMb: () => Promise<number>;
  close: () => Promise<void>;
}

const READY = /^Hangar web UI: (\S+)$/;

/** Starts scripts/start.ts --web with `env` (set LXD_DIR, or it starts a sandbox daemon). */
export async function startWebProcess(env: NodeJS.ProcessEnv): Promise<WebProcess> {
  // One node process (tsx as a loader, not its CLI, which runs the script in a child).
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--web'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`Hangar's web mode exited (${code}).`)));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const ready = READY.exec(line);
      if (ready?.[1] !== undefined) resolve(ready[1]);
      else console.log(`  [hangar] ${line}`);
    });
  });
  return {
    url,
    rssMb: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) / 1000;
    },
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
