/**
 * The remotes Hangar knows. For now the one every `lxc` has: `local`, the
 * daemon on this machine's unix socket (remote management comes next).
 */
import type { RemoteSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { EventHub } from '../event-hub.js';
import { findLocalSocket, localSocketHint } from '../lxd/local-socket.js';
import { LxdConnection } from './lxd-connection.js';

export class RemoteRegistry {
  private readonly connections = new Map<string, LxdConnection>();

  constructor(env: NodeJS.ProcessEnv, hub: EventHub, retryMs?: number) {
    const local = new LxdConnection(
      'local',
      () => {
        const search = findLocalSocket(env);
        return {
          endpoint:
            search.found === undefined ? undefined : { kind: 'unix', socketPath: search.found },
          tried: search.tried,
          hint: (code) => localSocketHint(search, code),
        };
      },
      hub,
      retryMs,
    );
    this.connections.set('local', local);
  }

  list(): RemoteSummary[] {
    return [...this.connections.values()].map((connection) => ({
      name: connection.remote,
      protocol: 'lxd',
      addr: connection.address,
      isDefault: connection.remote === 'local',
    }));
  }

  connection(name: string): LxdConnection {
    const connection = this.connections.get(name);
    if (connection === undefined)
      throw new HangarError('unknown-remote', `There is no remote named "${name}".`);
    return connection;
  }

  async connectAll(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.connect()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.close()));
  }
}
