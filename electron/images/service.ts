import type { Handlers } from '../../shared/contract.js';
import type { AliasEntry } from '../../shared/images/changes.js';
import type { LxdImage } from '../../shared/lxd.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { withRemote } from '../remotes/with-remote.js';
import { listImages } from './list.js';

export function imageHandlers(
  remotes: RemoteRegistry,
): Pick<Handlers, 'images.list' | 'images.get' | 'images.aliases'> {
  return {
    'images.list': ({ remote, project }) =>
      withRemote(remotes, remote, (client) => listImages(client, project)),
    'images.get': ({ remote, fingerprint, project }) =>
      withRemote(remotes, remote, (client) =>
        client.get<LxdImage>(`/1.0/images/${fingerprint}`, { project }),
      ),
    'images.aliases': ({ remote, project }) =>
      withRemote(remotes, remote, (client) =>
        client.get<AliasEntry[]>('/1.0/images/aliases', { query: { recursion: '1' }, project }),
      ),
  };
}
