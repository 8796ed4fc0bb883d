/**
 * A private LXD daemon for tests, benchmarks and `npm start` on a machine
 * with no LXD: its own LXD_DIR, a `dir` storage pool, a root disk in the
 * default profile, HTTPS on a free 127.0.0.1 port. Needs root (LXD does).
 */
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SandboxDaemon {
  dir: string;
  socket: string;
  /** host:port of the HTTPS listener. */
  httpsAddress: string;
  /** Runs `lxc` against this daemon and returns its stdout. */
  lxc: (args: string[], input?: string) => Promise<string>;
  /** A clean shutdown; `removeFiles` also deletes the daemon's directory. */
  stop: (options?: { removeFiles?: boolean }) => Promise<void>;
  /** SIGKILL, as a crash would. */
  kill: () => Promise<void>;
}

export class SandboxUnavailableError extends Error {}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

async function which(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command, feeding `input` on stdin when given; rejects with its stderr. */
export async function exec(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<string> {
  const child = spawn(command, args, {
    env,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A command that exits before reading its input is judged by its exit status, not EPIPE.
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(input);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr.trim()}`);
  return stdout;
}

/** Why a sandbox cannot start here, or undefined when it can. */
export async function sandboxBlocker(): Promise<string | undefined> {
  if (!(await which('lxd')) || !(await which('lxc'))) {
    return 'LXD is not installed (sudo apt-get install lxd lxd-client).';
  }
  if (process.getuid?.() !== 0) return 'a private LXD daemon must run as root.';
  return undefined;
}

/**
 * Per directory, the end (exit recorded) of the last daemon this process started there. A
 * daemon killed and started again on the same directory has a new end; stop waits for that one,
 * whichever handle it is called on.
 */
const endings = new Map<string, Promise<void>>();

/**
 * `daemonEnv` is added to the daemon's environment when it starts here: e.g.
 * SSL_CERT_FILE, so that it trusts the tests' loopback HTTPS servers.
 */
export async function startDaemon(
  dir: string,
  daemonEnv: NodeJS.ProcessEnv = {},
): Promise<SandboxDaemon> {
  const blocker = await sandboxBlocker();
  if (blocker !== undefined)
    throw new SandboxUnavailableError(`Cannot start a sandbox LXD: ${blocker}`);
  await mkdir(dir, { recursive: true, mode: 0o711 });
  const env = { ...process.env, LXD_DIR: dir };
  const lxc = (args: string[], input?: string) => exec('lxc', args, env, input);

  const socket = join(dir, 'unix.socket');
  const running =
    existsSync(socket) &&
    (await run('lxd', ['waitready', '--timeout', '1'], { env }).then(
      () => true,
      () => false,
    ));
  if (!running) {
    // What the daemon prints outside its log (a Go panic, a fatal error), and how it ended, are
    // kept beside the log: a sandbox daemon that vanished mid-run then says why.
    const outputPath = join(dir, 'lxd.output');
    const output = await open(outputPath, 'a');
    const daemon = spawn('lxd', ['--group', 'root', '--logfile', join(dir, 'lxd.log')], {
      env: { ...env, ...daemonEnv },
      detached: true,
      stdio: ['ignore', output.fd, output.fd],
    });
    await output.close();
    const ended = new Promise<void>((resolve) =>
      daemon.on('exit', (code, signal) => {
        try {
          appendFileSync(
            outputPath,
            `${new Date().toISOString()} lxd exited: ${signal === null ? `status ${String(code)}` : `signal ${signal}`}\n`,
          );
        } catch {
          // The directory is gone: nothing to record.
        }
        resolve();
      }),
    );
    endings.set(dir, ended);
    daemon.unref();
    await run('lxd', ['waitready', '--timeout', '60'], { env });
  }

  const pools = await lxc(['storage', 'list', '--format', 'csv']);
  if (pools.trim() === '') {
    const port = await freePort();
    const preseed = [
      'config:',
      `  core.https_address: 127.0.0.1:${port}`,
      'storage_pools:',
      '- name: default',
      '  driver: dir',
      'profiles:',
      '- name: default',
      '  devices:',
      '    root:',
      '      path: /',
      '      pool: default',
      '      type: disk',
      '',
    ].join('\n');
    await exec('lxd', ['init', '--preseed'], env, preseed);
  }
  const httpsAddress = (await lxc(['config', 'get', 'core.https_address'])).trim();
  const kill = async () => {
    // The daemon is found by its log file path, which is unique to this directory.
    await run('pkill', ['-KILL', '-f', `lxd --group root --logfile ${join(dir, 'lxd.log')}`]).catch(
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
  };

  return {
    dir,
    socket,
    httpsAddress,
    lxc,
    stop: async ({ removeFiles = false } = {}) => {
      await run('lxd', ['shutdown', '--timeout', '20'], { env }).catch(kill);
      if (removeFiles) {
        // Its end is written into the directory: removing it meanwhile would race that write.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          endings.get(dir) ?? Promise.resolve(),
          new Promise((resolve) => (timer = setTimeout(resolve, 5000))),
        ]);
        clearTimeout(timer);
        await unmountUnder(dir);
        await rm(dir, { recursive: true, force: true });
        endings.delete(dir);
      }
    },
    kill,
  };
}

/** LXD (and debootstrap) leave mounts under a directory; unmount them before deleting it. */
export async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((path): path is string => path?.startsWith(`${dir}/`) === true)
    .sort((a, b) => b.length - a.length);
  for (const path of mounts) await exec('umount', ['-l', path], process.env).catch(() => undefined);
}
