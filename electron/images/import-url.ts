/**
 * `lxc image import <url>`: LXD itself asks the URL for the LXD-Image-URL
 * and LXD-Image-Hash headers and downloads the image they point at.
 */
import type { CallInput, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { importCommand } from '../../shared/lxc-command.js';
import { progressFromLxd } from '../operations/lxd-progress.js';
import type { Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { pointAliases } from './aliases.js';

export function importUrl(
  remotes: RemoteRegistry,
  operations: Operations,
  input: CallInput<'images.importUrl'>,
): OperationSummary {
  const connection = remotes.lxd(input.remote);
  return operations.start(
    {
      kind: 'import',
      title: `Import ${input.url} into ${input.remote}`,
      command: importCommand({ ...input, files: [input.url], properties: {} }),
    },
    ({ signal, progress, setCancellable }) =>
      connection.withClient(async (client) => {
        progress({ stage: `Asking ${new URL(input.url).host} for the image` });
        const response = await client.request('/1.0/images', {
          method: 'POST',
          project: input.project,
          signal,
          body: { public: input.public, source: { type: 'url', url: input.url } },
        });
        if (response.type !== 'async')
          throw new HangarError('lxd-error', 'LXD did not start the download.');
        setCancellable(response.operation.may_cancel);
        const done = await client.waitForOperation(response.operation, {
          project: input.project,
          signal,
          onProgress: (operation) => {
            setCancellable(operation.may_cancel);
            const update =
              operation.metadata === null
                ? undefined
                : progressFromLxd(operation.metadata, { download_progress: 'Downloading' });
            if (update !== undefined) progress(update);
          },
        });
        const fingerprint = done.metadata?.fingerprint;
        if (typeof fingerprint !== 'string')
          throw new HangarError('lxd-error', 'LXD did not say which image it imported.');
        setCancellable(false);
        await pointAliases(
          client,
          input.aliases.map((name) => ({ name, description: '' })),
          fingerprint,
          input.project,
        );
        return { remote: input.remote, project: input.project ?? 'default', fingerprint };
      }),
  );
}
