import { existsSync } from 'node:fs';
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

/** Where exports go unless the user picks a folder: $XDG_DOWNLOAD_DIR, ~/Downloads, or home. */
export function defaultExportDir(env: NodeJS.ProcessEnv): string {
  const home = env.HOME ?? homedir();
  if (env.XDG_DOWNLOAD_DIR !== undefined && env.XDG_DOWNLOAD_DIR !== '')
    return env.XDG_DOWNLOAD_DIR;
  const downloads = join(home, 'Downloads');
  return existsSync(downloads) ? downloads : home;
}
