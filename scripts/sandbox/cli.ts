/** `npm run sandbox -- start|stop [--remote] [DIR]`: a sandbox LXD for trying Hangar by hand. */
import { DEFAULT_SANDBOX_DIR, startSandbox } from './sandbox.js';

const [command = 'start', ...rest] = process.argv.slice(2);
const withRemote = rest.includes('--remote');
const dir = rest.find((arg) => !arg.startsWith('--')) ?? DEFAULT_SANDBOX_DIR;

const sandbox = await startSandbox({ dir, withRemote });
if (command === 'stop') {
  await sandbox.stop({ removeFiles: rest.includes('--clean') });
  console.log(`Sandbox in ${dir} stopped.`);
} else {
  console.log(
    `Sandbox LXD running: export LXD_DIR=${sandbox.local.dir}   (HTTPS ${sandbox.local.httpsAddress})`,
  );
  if (sandbox.remote)
    console.log(
      `Second daemon: LXD_DIR=${sandbox.remote.dir}   (HTTPS ${sandbox.remote.httpsAddress})`,
    );
  console.log(
    `Images: ${sandbox.fixtures.map((image) => image.aliases[0]?.name ?? image.key).join(', ')}`,
  );
}
