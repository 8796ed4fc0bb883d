import { homedir } from 'node:os';
import { join } from 'node:path';

/** Hangar's own config directory, in both the desktop app and web mode: $HANGAR_DATA_DIR or ~/.config/hangar. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  if (env.HANGAR_DATA_DIR !== undefined && env.HANGAR_DATA_DIR !== '') return env.HANGAR_DATA_DIR;
  const config =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== ''
      ? env.XDG_CONFIG_HOME
      : join(env.HOME ?? homedir(), '.config');
  return join(config, 'hangar');
}
