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
import type { ImageLists } from './lists.js';
import { ReadOnlyProjects } from './read-only.js';
import type { StagedUploads } from './staged-uploads.js';
import { imageUsage } from './usage.js';

export function imageHandlers(
  remotes: RemoteRegistry,
  operations: Operations,
  uploads: StagedUploads,
  lists: ImageLists,
): Pick<
  Handlers,
  | 'images.list'
  | 'images.load'
  | 'images.view'
  | 'images.rows'
  | 'images.select'
  | 'images.details'
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
  return {
    'images.list': async (scope) => [...(await lists.load(scope, { refresh: true })).images],
    'images.load': ({ remote, project, refresh, ...query }) =>
      lists.loadView({ remote, project }, query, { refresh }),
    'images.view': ({ remote, project, ...query }) => lists.view({ remote, project }, query),
    'images.rows': ({ remote, project, offset, limit }) =>
      lists.chunk({ remote, project }, offset, limit),
    'images.select': ({ remote, project, ...query }) =>
      lists.fingerprints({ remote, project }, query),
    'images.details': ({ remote, project, fingerprints }) =>
      lists.details({ remote, project }, fingerprints),
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
