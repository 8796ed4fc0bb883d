/**
 * `lxc image copy`: the target LXD pulls the image from the source remote
 * (an LXD server or a simplestreams server), or Hangar relays it when the
 * source does not listen on the network; aliases are pointed afterwards, as
 * lxc does.
 */
import type { CallInput, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { copyCommand } from '../../shared/lxc-command.js';
import type { LxdImageAlias } from '../../shared/lxd.js';
import { followLxdOperation } from '../operations/lxd-progress.js';
import type { Operations } from '../operations/registry.js';
import { notOnNetwork, pullSourceBody } from '../remotes/image-source.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { pointAliases } from './aliases.js';
import { relayImage } from './relay.js';
import { resolveImage } from './resolve.js';

const where = (remote: string, project: string | undefined) =>
  project === undefined || project === 'default' ? remote : `${remote} (project ${project})`;

export function copyImage(
  remotes: RemoteRegistry,
  operations: Operations,
  input: CallInput<'images.copy'>,
): OperationSummary {
  const { source, target } = input;
  const sourceConnection = remotes.connection(source.remote);
  const targetConnection = remotes.lxd(target.remote);
  if (
    source.remote === target.remote &&
    (source.project ?? 'default') === (target.project ?? 'default')
  )
    throw new HangarError(
      'invalid-input',
      'The image is already there: choose another remote or project.',
    );
  return operations.start(
    {
      kind: 'copy',
      title: `Copy ${source.remote}:${source.image} to ${where(target.remote, target.project)}`,
      command: copyCommand(input),
    },
    async (context) => {
      const { signal, progress, setCancellable } = context;
      progress({ stage: `Looking up ${source.image} on ${source.remote}` });
      const image = await resolveImage(
        sourceConnection,
        source.remote,
        source.image,
        source.project,
      );
      const pull = await sourceConnection.pullSource(image, source.project);
      const aliases: LxdImageAlias[] = [
        ...input.aliases.map((name) => ({ name, description: '' })),
        ...(input.copyAliases ? image.aliases : []),
      ];
      if (pull === undefined) {
        // The target cannot reach the source: the bytes go through Hangar.
        if (input.autoUpdate)
          throw notOnNetwork(source.remote, `keep the copy on ${target.remote} up to date`);
        return remotes.lxd(source.remote).withClient((sourceClient) =>
          targetConnection.withClient(async (client) => {
            const fingerprint = await relayImage(
              { client: sourceClient, project: source.project },
              { client, project: target.project, public: input.public },
              image,
              context,
            );
            if (aliases.length > 0) progress({ stage: 'Setting aliases', percent: 100 });
            await pointAliases(client, aliases, fingerprint, target.project);
            return { remote: target.remote, project: target.project ?? 'default', fingerprint };
          }),
        );
      }
      return targetConnection.withClient(async (client) => {
        progress({ stage: 'Starting the download' });
        const response = await client.request('/1.0/images', {
          method: 'POST',
          project: target.project,
          signal,
          body: {
            auto_update: input.autoUpdate,
            public: input.public,
            source: pullSourceBody(
              pull,
              // As lxc does: a public image named by an alias is pulled by that alias (in the
              // fingerprint field), so that LXD records it and auto-update follows it to newer
              // versions.
              image.public && !image.fingerprint.startsWith(source.image)
                ? { fingerprint: source.image, type: image.type }
                : image,
              source.project,
            ),
          },
        });
        const done = await followLxdOperation(client, response, context, {
          project: target.project,
          what: 'the download',
          stageNames: { download_progress: 'Downloading' },
        });
        const fingerprint =
          typeof done.metadata?.fingerprint === 'string'
            ? done.metadata.fingerprint
            : image.fingerprint;
        // From here on the image exists: a cancel would only leave it without its aliases.
        setCancellable(false);
        if (aliases.length > 0) progress({ stage: 'Setting aliases', percent: 100 });
        await pointAliases(client, aliases, fingerprint, target.project);
        return { remote: target.remote, project: target.project ?? 'default', fingerprint };
      });
    },
  );
}
