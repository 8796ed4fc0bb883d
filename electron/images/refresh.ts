/**
 * `lxc image refresh`: POST /1.0/images/<fingerprint>/refresh, an LXD
 * operation that asks the image's update source for its alias again. LXD 5.0
 * ends it with `metadata: {refreshed: bool}` and nothing else: when it
 * refreshed, the image is a new one (another fingerprint) that took the old
 * one's aliases, and the old one is gone. Hangar finds the new one so that
 * the operation's result names an image that exists.
 */
import type { CallInput, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { refreshCommand } from '../../shared/lxc-command.js';
import type { LxdImage, LxdImageSource } from '../../shared/lxd.js';
import type { LxdClient } from '../lxd/client.js';
import { followLxdOperation } from '../operations/lxd-progress.js';
import type { Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { listImages } from './list.js';

const inProject = (project: string | undefined) =>
  project === undefined || project === 'default' ? '' : ` (project ${project})`;

/** How people know the image: its first alias, else its short fingerprint. */
const imageName = (image: LxdImage) => image.aliases[0]?.name ?? image.fingerprint.slice(0, 12);

const sameSource = (a: LxdImageSource, b: LxdImageSource) =>
  a.server === b.server && a.protocol === b.protocol && a.alias === b.alias;

/**
 * The image that replaced `old`: where its aliases point now, else the
 * newest image of the same type pulled from the same source.
 */
export async function replacementOf(
  client: LxdClient,
  old: LxdImage,
  source: LxdImageSource,
  project: string | undefined,
): Promise<string | undefined> {
  for (const alias of old.aliases) {
    try {
      const entry = await client.get<{ target: string }>(
        `/1.0/images/aliases/${encodeURIComponent(alias.name)}`,
        { project },
      );
      if (entry.target !== old.fingerprint) return entry.target;
    } catch (error) {
      // Deleted or renamed meanwhile: the next alias, or the source, tells.
      if (HangarError.from(error).code !== 'not-found') throw error;
    }
  }
  const candidates = (await listImages(client, project)).filter(
    (image) =>
      image.fingerprint !== old.fingerprint &&
      image.type === old.type &&
      image.update_source !== undefined &&
      sameSource(image.update_source, source),
  );
  candidates.sort((a, b) => b.uploaded_at.localeCompare(a.uploaded_at));
  return candidates[0]?.fingerprint;
}

export async function refreshImage(
  remotes: RemoteRegistry,
  operations: Operations,
  input: CallInput<'images.refresh'>,
): Promise<OperationSummary> {
  const { remote, project } = input;
  const connection = remotes.lxd(remote);
  // Refused before any operation starts: the user learns at once why nothing can happen.
  const image = await connection.getImage(input.fingerprint, project);
  const name = imageName(image);
  const source = image.update_source;
  if (source === undefined || source.server === '')
    throw new HangarError(
      'invalid-input',
      `${remote}:${name} was not copied from a remote with auto-update: there is nothing to refresh from.`,
    );
  const { fingerprint } = image;
  return operations.start(
    {
      kind: 'refresh',
      title: `Refresh ${remote}:${name}${inProject(project)}`,
      command: refreshCommand(input),
    },
    (context) =>
      connection.withClient(async (client) => {
        context.progress({ stage: `Asking ${source.server} for ${source.alias}` });
        const response = await client.request(`/1.0/images/${fingerprint}/refresh`, {
          method: 'POST',
          project,
          signal: context.signal,
        });
        const done = await followLxdOperation(client, response, context, {
          project,
          what: 'the refresh',
          stageNames: { download_progress: 'Downloading' },
        });
        const result = { remote, project: project ?? 'default' };
        if (done.metadata?.refreshed !== true)
          return {
            ...result,
            fingerprint,
            message: `${name} is already up to date with ${source.alias} on ${source.server}.`,
          };
        context.setCancellable(false);
        context.progress({ stage: 'Finding the new image', percent: 100 });
        const latest = await replacementOf(client, image, source, project);
        if (latest === undefined)
          return {
            ...result,
            message: `${name} was refreshed from ${source.server}, but Hangar cannot tell which image replaced it on ${remote}${inProject(project)}.`,
          };
        return {
          ...result,
          fingerprint: latest,
          message: `${name} was refreshed: it is now ${latest.slice(0, 12)} (was ${fingerprint.slice(0, 12)}).`,
        };
      }),
  );
}
