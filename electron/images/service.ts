import type { Handlers } from '../../shared/contract.js';
import type { Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { imageAccess } from './access.js';
import { aliasHandlers } from './alias-actions.js';
import { copyImage } from './copy.js';
import { deleteImages } from './delete.js';
import { imageDocument, updateImage } from './edit.js';
import { exportImage } from './export.js';
import { importFiles } from './import-files.js';
import { importUrl } from './import-url.js';
import type { ListCache } from './list-cache.js';
import { ReadOnlyProjects } from './read-only.js';
import type { StagedUploads } from './staged-uploads.js';
import { imageUsage } from './usage.js';

export function imageHandlers(
  remotes: RemoteRegistry,
  operations: Operations,
  uploads: StagedUploads,
  lists?: ListCache,
): Pick<
  Handlers,
  | 'images.list'
  | 'images.cached'
  | 'images.get'
  | 'images.aliases'
  | 'images.document'
  | 'images.update'
  | 'images.access'
  | 'images.aliasCreate'
  | 'images.aliasUpdate'
  | 'images.aliasRename'
  | 'images.aliasDelete'
  | 'images.usage'
  | 'images.delete'
  | 'images.copy'
  | 'images.export'
  | 'images.importFiles'
  | 'images.importUrl'
> {
  // Projects where LXD refused a change (403), for images.access.
  const readOnly = new ReadOnlyProjects();
  const addrOf = (remote: string) => remotes.list().find(({ name }) => name === remote)?.addr;
  const current = (remote: string) => {
    try {
      return remotes.connection(remote);
    } catch {
      return undefined;
    }
  };
  return {
    'images.list': async ({ remote, project }) => {
      const connection = remotes.connection(remote);
      const images = await connection.listImages(project);
      // Kept for the next window or start, unless the remote was removed or renamed meanwhile.
      const addr = addrOf(remote);
      if (lists !== undefined && addr !== undefined && current(remote) === connection)
        void lists.write(remote, project ?? 'default', addr, images);
      return images;
    },
    'images.cached': async ({ remote, project }) => {
      const addr = addrOf(remote);
      if (lists === undefined || addr === undefined) return null;
      return lists.read(remote, project ?? 'default', addr);
    },
    'images.get': ({ remote, fingerprint, project }) =>
      remotes.connection(remote).getImage(fingerprint, project),
    'images.aliases': ({ remote, project }) => remotes.connection(remote).listAliases(project),
    'images.document': (input) => imageDocument(remotes, input),
    'images.update': (input) => updateImage(remotes, readOnly, input),
    'images.access': (input) => imageAccess(remotes, readOnly, input),
    ...aliasHandlers(remotes, readOnly),
    'images.usage': (input) => imageUsage(remotes, input),
    // Each starts an operation and answers at once; its progress arrives as events.
    'images.delete': (input) => Promise.resolve(deleteImages(remotes, operations, readOnly, input)),
    'images.copy': (input) => Promise.resolve(copyImage(remotes, operations, input)),
    'images.export': (input) => Promise.resolve(exportImage(remotes, operations, input)),
    'images.importFiles': (input) => importFiles(remotes, operations, uploads, input),
    'images.importUrl': (input) => Promise.resolve(importUrl(remotes, operations, input)),
  };
}
