import type { Handlers } from '../../shared/contract.js';
import type { RemoteRegistry } from './registry.js';
import { withRemote } from './with-remote.js';

export function remoteHandlers(
  remotes: RemoteRegistry,
): Pick<Handlers, 'remotes.list' | 'remotes.status' | 'projects.list'> {
  return {
    'remotes.list': () => Promise.resolve(remotes.list()),
    'remotes.status': ({ remote }) => Promise.resolve(remotes.connection(remote).status),
    'projects.list': ({ remote }) =>
      withRemote(remotes, remote, async (client) => {
        const urls = await client.get<string[]>('/1.0/projects');
        return urls.map((url) => decodeURIComponent(url.slice(url.lastIndexOf('/') + 1))).sort();
      }),
  };
}
