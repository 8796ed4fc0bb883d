import type { Handlers } from '../../shared/contract.js';
import type { RemoteRegistry } from '../remotes/registry.js';

export function imageHandlers(
  remotes: RemoteRegistry,
): Pick<Handlers, 'images.list' | 'images.get' | 'images.aliases'> {
  return {
    'images.list': ({ remote, project }) => remotes.connection(remote).listImages(project),
    'images.get': ({ remote, fingerprint, project }) =>
      remotes.connection(remote).getImage(fingerprint, project),
    'images.aliases': ({ remote, project }) => remotes.connection(remote).listAliases(project),
  };
}
