/** A trust token made on an LXD daemon, as its administrator makes one (`lxc config trust add`). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function trustToken(lxdDir: string, clientName: string): Promise<string> {
  const { stdout } = await run('lxc', ['config', 'trust', 'add', '--name', clientName], {
    env: { ...process.env, LXD_DIR: lxdDir },
  });
  // The token is the last line; LXD 5.0 prints a heading before it.
  const token = stdout.trim().split('\n').at(-1)?.trim() ?? '';
  if (!/^[A-Za-z0-9+/=]{40,}$/.test(token)) throw new Error(`no trust token in: ${stdout}`);
  return token;
}
