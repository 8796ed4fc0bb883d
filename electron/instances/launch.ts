/**
 * `lxc launch` / `lxc init`: an instance from any remote's image. A remote
 * image is pulled and cached by the target LXD, as lxc does; starting may be
 * refused by the host, and LXD's own error is what the user sees.
 */
import type { CallInput, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { launchCommand } from '../../shared/lxc-command.js';
import { resolveImage } from '../images/resolve.js';
import { followLxdOperation } from '../operations/lxd-progress.js';
import type { Operations } from '../operations/registry.js';
import { notOnNetwork, pullSourceBody } from '../remotes/image-source.js';
import type { RemoteRegistry } from '../remotes/registry.js';

export function launchInstance(
  remotes: RemoteRegistry,
  operations: Operations,
  input: CallInput<'instances.launch'>,
): OperationSummary {
  const { source, target } = input;
  const sourceConnection = remotes.connection(source.remote);
  const targetConnection = remotes.lxd(target.remote);
  const project = target.project ?? 'default';
  return operations.start(
    {
      kind: 'launch',
      title: `${input.start ? 'Launch' : 'Create'} ${input.name ?? 'an instance'} from ${source.remote}:${source.image} on ${target.remote}`,
      command: launchCommand(input),
    },
    async (context) => {
      const { signal, progress, setCancellable } = context;
      progress({ stage: `Looking up ${source.image} on ${source.remote}` });
      const type = input.vm ? 'virtual-machine' : 'container';
      const image = await resolveImage(
        sourceConnection,
        source.remote,
        source.image,
        source.project,
        type,
      );
      const sameStore =
        source.remote === target.remote && (source.project ?? 'default') === project;
      const pull = sameStore ? undefined : await sourceConnection.pullSource(image, source.project);
      if (!sameStore && pull === undefined)
        throw notOnNetwork(source.remote, `create an instance on ${target.remote}`);
      return targetConnection.withClient(async (client) => {
        progress({ stage: 'Creating the instance' });
        const created = await client.request('/1.0/instances', {
          method: 'POST',
          project,
          signal,
          body: {
            ...(input.name === undefined ? {} : { name: input.name }),
            type,
            ephemeral: input.ephemeral,
            ...(input.profiles === undefined ? {} : { profiles: input.profiles }),
            source:
              pull === undefined
                ? { type: 'image', fingerprint: image.fingerprint }
                : pullSourceBody(pull, image, source.project),
          },
        });
        const done = await followLxdOperation(client, created, context, {
          project,
          what: 'creating the instance',
          stageNames: { download_progress: 'Downloading the image' },
        });
        const url = done.resources?.instances?.[0] ?? done.resources?.containers?.[0];
        const name =
          input.name ??
          (url === undefined ? undefined : decodeURIComponent(url.slice(url.lastIndexOf('/') + 1)));
        if (name === undefined)
          throw new HangarError('lxd-error', 'LXD did not say which instance it made.');
        setCancellable(false);
        if (input.start) {
          progress({ stage: `Starting ${name}` });
          const started = await client.request(`/1.0/instances/${encodeURIComponent(name)}/state`, {
            method: 'PUT',
            project,
            body: { action: 'start', timeout: -1 },
          });
          if (started.type === 'async') {
            try {
              await client.waitForOperation(started.operation, { project });
            } catch (error) {
              const failure = HangarError.from(error);
              throw new HangarError(
                failure.code,
                `${name} was created but LXD could not start it: ${failure.message}`,
              );
            }
          }
        }
        return { remote: target.remote, project, instance: name };
      });
    },
  );
}
