import type { Handlers } from '../../shared/contract.js';
import type { Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { exportSimplestreams } from './export.js';
import { shareInfo } from './share.js';

export function sharingHandlers(
  remotes: RemoteRegistry,
  operations: Operations,
): Pick<Handlers, 'images.exportSimplestreams' | 'remotes.shareInfo'> {
  return {
    'images.exportSimplestreams': (input) =>
      Promise.resolve(exportSimplestreams(remotes, operations, input)),
    'remotes.shareInfo': (input) => shareInfo(remotes, input.remote),
  };
}
