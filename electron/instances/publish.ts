/**
 * `lxc publish`: an instance or one of its snapshots becomes an image.
 * As lxc 5.0.2 does (checked with `lxc --debug publish`): POST /1.0/images
 * with `source {type, name}`, `compression_algorithm`, `public`,
 * `properties` and `expires_at`, no aliases in the request; the aliases are
 * pointed afterwards (an existing one is moved). A running instance is
 * refused unless forced: then it is stopped, published and started again.
 * Publishing to another remote or project publishes in place, copies the
 * image there and deletes the one left behind, as lxc does for `lxc publish
 * c1 other:`.
 */
import type { CallInput, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { publishCommand } from '../../shared/instances/publish.js';
import type { LxdImage } from '../../shared/lxd.js';
import type { LxdClient } from '../lxd/client.js';
import { pointAliases } from '../images/aliases.js';
import { relayImage } from '../images/relay.js';
import { followLxdOperation } from '../operations/lxd-progress.js';
import type { OperationContext, Operations } from '../operations/registry.js';
import { pullSourceBody } from '../remotes/image-source.js';
import type { RemoteRegistry } from '../remotes/registry.js';

/** LXD's status code for a stopped instance (`api.Stopped`). */
const STOPPED = 102;

const where = (remote: string, project: string | undefined) =>
  project === undefined || project === 'default' ? remote : `${remote} (project ${project})`;

interface LxdInstanceState {
  name: string;
  status: string;
  status_code: number;
  ephemeral: boolean;
}

/** Changes an instance's state (stop, start) and waits for LXD to finish. */
async function setState(
  client: LxdClient,
  instance: string,
  project: string | undefined,
  state: { action: 'stop' | 'start'; force?: boolean },
): Promise<void> {
  const response = await client.request(`/1.0/instances/${encodeURIComponent(instance)}/state`, {
    method: 'PUT',
    project,
    body: { ...state, timeout: -1 },
  });
  if (response.type === 'async') await client.waitForOperation(response.operation, { project });
}

async function setEphemeral(
  client: LxdClient,
  instance: string,
  project: string | undefined,
  ephemeral: boolean,
): Promise<void> {
  await client.request(`/1.0/instances/${encodeURIComponent(instance)}`, {
    method: 'PATCH',
    project,
    body: { ephemeral },
  });
}

/** Packs the instance or snapshot into an image on its own server; its fingerprint. */
async function pack(
  client: LxdClient,
  input: CallInput<'instances.publish'>,
  publicOnSource: boolean,
  context: OperationContext,
): Promise<string> {
  const { source } = input;
  const response = await client.request('/1.0/images', {
    method: 'POST',
    project: source.project,
    signal: context.signal,
    body: {
      public: publicOnSource,
      properties: input.properties,
      ...(input.expiresAt === undefined ? {} : { expires_at: input.expiresAt }),
      ...(input.compression === undefined ? {} : { compression_algorithm: input.compression }),
      source:
        source.snapshot === undefined
          ? { type: 'instance', name: source.instance }
          : { type: 'snapshot', name: `${source.instance}/${source.snapshot}` },
    },
  });
  const done = await followLxdOperation(client, response, context, {
    project: source.project,
    what: 'the publish',
    stageNames: {
      create_image_from_container_pack_progress: 'Packing the image',
      create_image_from_instance_pack_progress: 'Packing the image',
    },
  });
  const fingerprint = done.metadata?.fingerprint;
  if (typeof fingerprint !== 'string')
    throw new HangarError('lxd-error', 'LXD did not say which image it made.');
  return fingerprint;
}

export function publishInstance(
  remotes: RemoteRegistry,
  operations: Operations,
  input: CallInput<'instances.publish'>,
): OperationSummary {
  const { source, target } = input;
  const sourceConnection = remotes.lxd(source.remote);
  const targetConnection = remotes.lxd(target.remote);
  const sameStore =
    source.remote === target.remote &&
    (source.project ?? 'default') === (target.project ?? 'default');
  const what =
    source.snapshot === undefined ? source.instance : `${source.instance}/${source.snapshot}`;
  return operations.start(
    {
      kind: 'publish',
      title: `Publish ${source.remote}:${what} as an image on ${where(target.remote, target.project)}`,
      command: publishCommand(input),
    },
    async (context) => {
      const { progress, setCancellable } = context;
      const published = await sourceConnection.withClient(async (client) => {
        let restart: { ephemeral: boolean } | undefined;
        if (source.snapshot === undefined) {
          progress({ stage: `Looking at ${source.instance}` });
          const instance = await client.get<LxdInstanceState>(
            `/1.0/instances/${encodeURIComponent(source.instance)}`,
            { project: source.project },
          );
          if (instance.status_code !== 0 && instance.status_code !== STOPPED) {
            if (!input.force)
              throw new HangarError(
                'invalid-input',
                `${source.instance} is ${instance.status.toLowerCase()}: LXD publishes a stopped instance. Stop it first, or let Hangar stop it for the publish and start it again (lxc publish --force).`,
              );
            // Stopping an ephemeral instance would delete it: it is made persistent meanwhile.
            if (instance.ephemeral)
              await setEphemeral(client, source.instance, source.project, false);
            progress({ stage: `Stopping ${source.instance}` });
            restart = { ephemeral: instance.ephemeral };
            await setState(client, source.instance, source.project, {
              action: 'stop',
              force: true,
            });
          }
        }
        try {
          progress({ stage: 'Packing the image' });
          return await pack(client, input, sameStore && input.public, context);
        } finally {
          if (restart !== undefined) {
            progress({ stage: `Starting ${source.instance} again` });
            await setState(client, source.instance, source.project, { action: 'start' });
            if (restart.ephemeral)
              await setEphemeral(client, source.instance, source.project, true);
          }
        }
      });
      // From here on the image exists.
      setCancellable(false);
      const aliases = input.aliases.map((name) => ({ name, description: '' }));
      if (sameStore) {
        if (aliases.length > 0) progress({ stage: 'Setting aliases', percent: 100 });
        await sourceConnection.withClient((client) =>
          pointAliases(client, aliases, published, source.project),
        );
        return {
          remote: source.remote,
          project: source.project ?? 'default',
          fingerprint: published,
        };
      }
      const fingerprint = await moveImage(remotes, input, published, context);
      if (aliases.length > 0) progress({ stage: 'Setting aliases', percent: 100 });
      await targetConnection.withClient((client) =>
        pointAliases(client, aliases, fingerprint, target.project),
      );
      return { remote: target.remote, project: target.project ?? 'default', fingerprint };
    },
  );
}

/** Copies the published image to the target (a pull, or a relay through Hangar), then deletes it at the source. */
async function moveImage(
  remotes: RemoteRegistry,
  input: CallInput<'instances.publish'>,
  fingerprint: string,
  context: OperationContext,
): Promise<string> {
  const { source, target } = input;
  const sourceConnection = remotes.lxd(source.remote);
  const targetConnection = remotes.lxd(target.remote);
  const image = await sourceConnection.getImage(fingerprint, source.project);
  const pull = await sourceConnection.pullSource(image, source.project);
  const copied = await sourceConnection.withClient((sourceClient) =>
    targetConnection.withClient(async (client) => {
      let stored: string;
      if (pull === undefined) {
        stored = await relayImage(
          { client: sourceClient, project: source.project },
          { client, project: target.project, public: input.public },
          image,
          context,
        );
      } else {
        context.progress({ stage: `Copying to ${where(target.remote, target.project)}` });
        const response = await client.request('/1.0/images', {
          method: 'POST',
          project: target.project,
          body: {
            public: input.public,
            source: pullSourceBody(pull, image, source.project),
          },
        });
        const done = await followLxdOperation(client, response, context, {
          project: target.project,
          what: 'the copy',
          stageNames: { download_progress: 'Copying' },
        });
        stored =
          typeof done.metadata?.fingerprint === 'string' ? done.metadata.fingerprint : fingerprint;
      }
      if (input.expiresAt !== undefined)
        await setExpiry(client, stored, target.project, input.expiresAt);
      return stored;
    }),
  );
  context.progress({ stage: `Removing the image left on ${where(source.remote, source.project)}` });
  await sourceConnection.withClient(async (client) => {
    const response = await client.request(`/1.0/images/${fingerprint}`, {
      method: 'DELETE',
      project: source.project,
    });
    if (response.type === 'async')
      await client.waitForOperation(response.operation, { project: source.project });
  });
  return copied;
}

/** A copy does not carry the expiry: it is set with a PUT (PATCH ignores expires_at). */
async function setExpiry(
  client: LxdClient,
  fingerprint: string,
  project: string | undefined,
  expiresAt: string,
): Promise<void> {
  const current = await client.request<LxdImage>(`/1.0/images/${fingerprint}`, { project });
  if (current.type !== 'sync') return;
  const image = current.metadata;
  await client.request(`/1.0/images/${fingerprint}`, {
    method: 'PUT',
    project,
    ...(current.etag === undefined ? {} : { headers: { 'If-Match': current.etag } }),
    body: {
      auto_update: image.auto_update,
      properties: image.properties,
      public: image.public,
      expires_at: expiresAt,
      profiles: image.profiles,
    },
  });
}
