/**
 * `npm start [-- --web] [-- --port N]`: runs Hangar against this machine's
 * LXD, or a private sandbox daemon when none is configured; in Electron when
 * its binary is installed, in the browser (web mode) otherwise.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { findLocalSocket } from '../electron/lxd/local-socket.js';
import { startWebMode } from '../electron/web.js';
import { sandboxBlocker } from './sandbox/daemon.js';
import { DEFAULT_SANDBOX_DIR, startSandbox, type Sandbox } from './sandbox/sandbox.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const forceWeb = args.includes('--web');
const portArg = args[args.indexOf('--port') + 1];
const port = args.includes('--port') ? Number(portArg) : 0;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port needs a port number, not "${portArg ?? ''}".`);
  process.exit(2);
}

/** Electron's binary, when its install script could fetch it. */
function electronBinary(): string | undefined {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const env = { ...process.env };
let sandbox: Sandbox | undefined;
const search = findLocalSocket(env);
// An LXD_DIR or LXD_SOCKET the user set is their choice, even when nothing answers there yet.
const configured = env.LXD_DIR !== undefined || env.LXD_SOCKET !== undefined;
if (search.found === undefined && !configured) {
  const blocker = await sandboxBlocker();
  if (blocker === undefined) {
    console.log(
      `No LXD found (looked at ${search.tried.join(', ')}): starting a sandbox daemon in ${DEFAULT_SANDBOX_DIR}.`,
    );
    sandbox = await startSandbox({ dir: DEFAULT_SANDBOX_DIR });
    env.LXD_DIR = sandbox.local.dir;
  } else {
    console.log(
      `No LXD found and no sandbox possible (${blocker}) Hangar will show how to fix it.`,
    );
  }
}

const binary = forceWeb ? undefined : electronBinary();
let stop: () => Promise<void>;
if (binary !== undefined) {
  const child = spawn(binary, [`${root}dist/electron/main.cjs`], { env, stdio: 'inherit' });
  stop = async () => {
    child.kill();
    await sandbox?.stop();
  };
  child.on('exit', (code) => void stop().finally(() => process.exit(code ?? 0)));
} else {
  if (!forceWeb) console.log('Electron is not installed here: starting web mode.');
  const web = await startWebMode({ env, staticDir: `${root}dist/renderer`, port });
  console.log(`Hangar web UI: ${web.url}`);
  stop = async () => {
    await web.close();
    await sandbox?.stop();
  };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stop().finally(() => process.exit(0)));
}
