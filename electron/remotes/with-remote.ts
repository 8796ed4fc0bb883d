import { HangarError } from '../../shared/errors.js';
import type { LxdClient } from '../lxd/client.js';
import type { RemoteRegistry } from './registry.js';

/** Runs `work` against a remote's client; a lost server updates the remote's status at once. */
export async function withRemote<T>(
  remotes: RemoteRegistry,
  remote: string,
  work: (client: LxdClient) => Promise<T>,
): Promise<T> {
  const connection = remotes.connection(remote);
  const client = await connection.getClient();
  try {
    return await work(client);
  } catch (error) {
    connection.reportFailure(HangarError.from(error));
    throw error;
  }
}
