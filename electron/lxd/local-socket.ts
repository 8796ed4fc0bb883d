/**
 * Finds the local daemon's unix socket the way the `lxc` client does:
 * `LXD_SOCKET`, else `$LXD_DIR/unix.socket` when LXD_DIR is set (and only
 * that), else the snap's socket, else the package's. Incus's sockets come
 * last, for hosts that moved to Incus.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalSocketSearch {
  /** The first candidate that exists as a socket, if any. */
  found: string | undefined;
  /** Every path looked at, in order. */
  tried: string[];
}

export function localSocketCandidates(env: NodeJS.ProcessEnv): string[] {
  if (env.LXD_SOCKET) return [env.LXD_SOCKET];
  if (env.LXD_DIR) return [join(env.LXD_DIR, 'unix.socket')];
  return [
    '/var/snap/lxd/common/lxd/unix.socket',
    '/var/lib/lxd/unix.socket',
    ...(env.INCUS_SOCKET ? [env.INCUS_SOCKET] : []),
    ...(env.INCUS_DIR ? [join(env.INCUS_DIR, 'unix.socket')] : []),
    '/var/lib/incus/unix.socket',
  ];
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

export function findLocalSocket(env: NodeJS.ProcessEnv): LocalSocketSearch {
  const tried = localSocketCandidates(env);
  return { found: tried.find(isSocket), tried };
}

/** What to tell a user whose local LXD cannot be reached. */
export function localSocketHint(search: LocalSocketSearch, errorCode: string | undefined): string {
  if (search.found === undefined) {
    return 'No LXD socket was found. Install LXD (sudo apt install lxd) and start it, or set LXD_DIR to the directory of a running daemon. Hangar reconnects by itself.';
  }
  if (errorCode === 'EACCES') {
    return `Your user may not open ${search.found}. Add it to the lxd group (sudo usermod -aG lxd "$USER") and log in again.`;
  }
  return `The socket ${search.found} exists but LXD is not answering. Start the daemon (sudo systemctl start lxd, or lxd --group lxd). Hangar reconnects by itself.`;
}
