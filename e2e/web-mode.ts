/** Runs `npm start -- --web` the way a user does (after `npm run build`) and returns its URL. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface RunningWebMode {
  url: string;
  stop: () => Promise<void>;
}

export async function startWebMode(env: NodeJS.ProcessEnv): Promise<RunningWebMode> {
  if (!existsSync('dist/renderer/index.html'))
    throw new Error('Build the renderer first: npm run build');
  const child = spawn('npx', ['tsx', 'scripts/start.ts', '--web'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`web mode did not start: ${output}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^Hangar web UI: (\S+)$/m.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`web mode exited with ${code}: ${output}`)));
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise((resolve) => child.on('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}
