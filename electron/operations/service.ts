import type { Handlers } from '../../shared/contract.js';
import { launchInstance } from '../instances/launch.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import type { Operations } from './registry.js';

export function operationHandlers(
  remotes: RemoteRegistry,
  operations: Operations,
): Pick<Handlers, 'operations.list' | 'operations.cancel' | 'instances.launch'> {
  return {
    'operations.list': () => Promise.resolve(operations.list()),
    'operations.cancel': ({ id }) => {
      operations.cancel(id);
      return Promise.resolve(null);
    },
    'instances.launch': (input) => Promise.resolve(launchInstance(remotes, operations, input)),
  };
}
