import type { Handlers } from '../../shared/contract.js';
import type { Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { copyImage } from './copy.js';
import { exportImage } from './export.js';
import { importFiles } from './import-files.js';
import { importUrl } from './import-url.js';
import type { StagedUploads } from './staged-uploads.js';

export function imageHandlers(
  remotes: RemoteRegistry,
  operations: Operations,
  uploads: StagedUploads,
): Pick<
  Handlers,
  | 'images.list'
  | 'images.get'
  | 'images.aliases'
  | 'images.copy'
  | 'images.export'
  | 'images.importFiles'
  | 'images.importUrl'
> {
  return {
    'images.list': ({ remote, project }) => remotes.connection(remote).listImages(project),
    'images.get': ({ remote, fingerprint, project }) =>
      remotes.connection(remote).getImage(fingerprint, project),
    'images.aliases': ({ remote, project }) => remotes.connection(remote).listAliases(project),
    // Each starts an operation and answers at once; its progress arrives as events.
    'images.copy': (input) => Promise.resolve(copyImage(remotes, operations, input)),
    'images.export': (input) => Promise.resolve(exportImage(remotes, operations, input)),
    'images.importFiles': (input) =>
      Promise.resolve(importFiles(remotes, operations, uploads, input)),
    'images.importUrl': (input) => Promise.resolve(importUrl(remotes, operations, input)),
  };
}
