/**
 * `lxc image import <url>`: LXD itself asks the URL for the LXD-Image-URL
 * and LXD-Image-Hash headers and downloads the image they point at.
 */
import type { CallInput, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { importCommand } from '../../shared/lxc-command.js';
import { followLxdOperation } from '../operations/lxd-progress.js';
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
    (context) =>
      connection.withClient(async (client) => {
        const { signal, progress, setCancellable } = context;
        progress({ stage: `Asking ${new URL(input.url).host} for the image` });
        const response = await client.request('/1.0/images', {
          method: 'POST',
          project: input.project,
          signal,
          body: { public: input.public, source: { type: 'url', url: input.url } },
        });
        const done = await followLxdOperation(client, response, context, {
          project: input.project,
          what: 'the download',
          stageNames: { download_progress: 'Downloading' },
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
