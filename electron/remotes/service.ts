import type { Handlers } from '../../shared/contract.js';
import type { RemoteRegistry } from './registry.js';

export function remoteHandlers(
  remotes: RemoteRegistry,
): Pick<
  Handlers,
  | 'remotes.list'
  | 'remotes.status'
  | 'remotes.probe'
  | 'remotes.add'
  | 'remotes.remove'
  | 'remotes.rename'
  | 'remotes.setDefault'
  | 'remotes.trustCertificate'
  | 'remotes.lxcOffer'
  | 'remotes.importLxc'
  | 'remotes.dismissLxcImport'
  | 'app.info'
  | 'app.chooseFolder'
  | 'projects.list'
> {
  return {
    'remotes.list': () => Promise.resolve(remotes.list()),
    'remotes.status': ({ remote }) => Promise.resolve(remotes.connection(remote).status),
    'remotes.probe': (input) => remotes.probe(input),
    'remotes.add': async (input) => (await remotes.add(input)).summary,
    'remotes.remove': async ({ remote }) => {
      await remotes.remove(remote);
      return null;
    },
    'remotes.rename': ({ remote, newName }) => remotes.rename(remote, newName),
    'remotes.setDefault': async ({ remote }) => {
      await remotes.setDefault(remote);
      return null;
    },
    'remotes.trustCertificate': async ({ remote, fingerprint }) => {
      await remotes.trustCertificate(remote, fingerprint);
      return null;
    },
    'remotes.lxcOffer': () => remotes.lxcOffer(),
    'remotes.importLxc': ({ names }) => remotes.importLxc(names),
    'remotes.dismissLxcImport': async () => {
      await remotes.dismissLxcImport();
      return null;
    },
    'app.info': () => Promise.resolve(remotes.appInfo()),
    'app.chooseFolder': (input) => remotes.chooseFolder(input),
    'projects.list': ({ remote }) => remotes.connection(remote).listProjects(),
  };
}
