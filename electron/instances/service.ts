import type { Handlers } from '../../shared/contract.js';
import type { Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { listInstances } from './list.js';
import { publishInstance } from './publish.js';

/** The Instances view: `lxc list` and `lxc publish`. */
export function instanceHandlers(
  remotes: RemoteRegistry,
  operations: Operations,
): Pick<Handlers, 'instances.list' | 'instances.publish'> {
  return {
    'instances.list': (input) => listInstances(remotes, input),
    // Starts an operation and answers at once; its progress arrives as events.
    'instances.publish': (input) => Promise.resolve(publishInstance(remotes, operations, input)),
  };
}
