/** Test projects on a sandbox daemon: made empty, deleted with what a test left in them. */
import { exec } from './daemon.js';

/**
 * Deletes `project` on the daemon in `lxdDir` with its instances and images.
 * An instance LXD refused to start may still be stopping: deleting it is
 * retried for a while.
 */
export async function deleteProject(lxdDir: string, project: string): Promise<void> {
  const lxc = (...args: string[]) => exec('lxc', args, { ...process.env, LXD_DIR: lxdDir });
  const listed = async (...args: string[]) =>
    (await lxc(...args, '--project', project, '--format', 'csv')).split('\n').filter(Boolean);
  for (const name of await listed('list', '-c', 'n'))
    for (let attempt = 0; ; attempt++) {
      try {
        await lxc('delete', '--force', '--project', project, name);
        break;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  for (const fingerprint of await listed('image', 'list', '-c', 'F'))
    await lxc('image', 'delete', '--project', project, fingerprint);
  await lxc('project', 'delete', project);
}

/**
 * An instance created from an image, as `lxc init` does, through `lxc query` (`lxc init` from a
 * test waits for a config on standard input).
 */
export async function createInstance(
  lxdDir: string,
  project: string,
  name: string,
  fingerprint: string,
): Promise<void> {
  await exec(
    'lxc',
    [
      'query',
      '--wait',
      '-X',
      'POST',
      `/1.0/instances?project=${project}`,
      '--data',
      JSON.stringify({ name, source: { type: 'image', fingerprint } }),
    ],
    { ...process.env, LXD_DIR: lxdDir },
  );
}
