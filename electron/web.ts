/** Web mode: the same services as the Electron app, behind the loopback bridge. */
import { startBridge } from './bridge/server.js';
import { defaultDataDir } from './data-dir.js';
import { createHangar } from './hangar.js';
import { plaintextCodec } from './remotes/identity.js';

export interface WebMode {
  url: string;
  close: () => Promise<void>;
}

export async function startWebMode(options: {
  env: NodeJS.ProcessEnv;
  staticDir: string;
  port?: number;
}): Promise<WebMode> {
  const hangar = await createHangar({
    env: options.env,
    dataDir: defaultDataDir(options.env),
    secrets: plaintextCodec(
      'Web mode cannot use the desktop keyring, so Hangar keeps its client key in a file only you can read (0600), as lxc does.',
    ),
  });
  const bridge = await startBridge({ hangar, staticDir: options.staticDir, port: options.port });
  return {
    url: bridge.url,
    close: async () => {
      await bridge.close();
      await hangar.close();
    },
  };
}
