/** Web mode: the same services as the Electron app, behind the loopback bridge. */
import { startBridge } from './bridge/server.js';
import { createHangar } from './hangar.js';

export interface WebMode {
  url: string;
  close: () => Promise<void>;
}

export async function startWebMode(options: {
  env: NodeJS.ProcessEnv;
  staticDir: string;
  port?: number;
}): Promise<WebMode> {
  const hangar = createHangar({ env: options.env });
  const bridge = await startBridge({ hangar, staticDir: options.staticDir, port: options.port });
  return {
    url: bridge.url,
    close: async () => {
      await bridge.close();
      await hangar.close();
    },
  };
}
