/**
 * `images.refresh` and `images.checkUpdates`: refreshing an image from its
 * update source, and asking the sources whether there is anything newer.
 */
import type { Handlers } from '../../shared/contract.js';
import type { Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { refreshImage } from './refresh.js';
import { UpdateChecker, type UpdateCheckOptions } from './updates.js';

export function updateHandlers(
  remotes: RemoteRegistry,
  operations: Operations,
  options: UpdateCheckOptions = {},
): {
  handlers: Pick<Handlers, 'images.refresh' | 'images.checkUpdates'>;
  /** Closes the connections to update sources that are not Hangar remotes. */
  close: () => Promise<void>;
} {
  const checker = new UpdateChecker(remotes, options);
  return {
    handlers: {
      // Starts an operation and answers at once; an image with no source is refused here.
      'images.refresh': (input) => refreshImage(remotes, operations, input),
      'images.checkUpdates': ({ remote, project }) => checker.check(remote, project),
    },
    close: () => checker.close(),
  };
}
