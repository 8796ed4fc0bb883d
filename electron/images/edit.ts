/**
 * `lxc image edit`: an image's document is read with its ETag and written
 * back with If-Match, so a change someone else made meanwhile is never
 * overwritten silently.
 */
import { createHash } from 'node:crypto';
import type { CallInput, ImageForEdit } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { blocking, documentOf, documentProblems } from '../../shared/images/document.js';
import type { LxdImage } from '../../shared/lxd.js';
import type { LxdClient } from '../lxd/client.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { where, type ReadOnlyProjects } from './read-only.js';

/*
 * LXD 5.0's image ETag covers public, auto_update and properties only: a
 * change of expires_at or profiles leaves it as it was. Hangar's ETag is
 * LXD's followed by a hash of those two (`"<LXD's>";<16 hex digits>`), so a
 * change to any field of the document is noticed. A bare LXD ETag is accepted
 * too (then only LXD checks it).
 */
function extraTag(image: LxdImage): string {
  return createHash('sha256')
    .update(JSON.stringify([image.expires_at, image.profiles]))
    .digest('hex')
    .slice(0, 16);
}

export function editTag(lxdEtag: string | undefined, image: LxdImage): string {
  return `${lxdEtag ?? ''};${extraTag(image)}`;
}

function splitTag(tag: string): { lxd: string; extra: string | undefined } {
  const at = tag.lastIndexOf(';');
  return at < 0
    ? { lxd: tag, extra: undefined }
    : { lxd: tag.slice(0, at), extra: tag.slice(at + 1) };
}

const unquote = (etag: string) => etag.trim().replace(/^"|"$/g, '');

/** `"fixture/split" (eedcca49a6ee)`, or the short fingerprint of an image without alias. */
export function describeImage(image: LxdImage): string {
  const short = image.fingerprint.slice(0, 12);
  const alias = image.aliases[0]?.name;
  return alias === undefined ? `The image ${short}` : `The image "${alias}" (${short})`;
}

async function readImage(
  client: LxdClient,
  remote: string,
  fingerprint: string,
  project: string | undefined,
): Promise<ImageForEdit> {
  try {
    const response = await client.request<LxdImage>(`/1.0/images/${fingerprint}`, { project });
    if (response.type !== 'sync')
      throw new HangarError(
        'internal',
        `LXD answered GET /1.0/images/${fingerprint} with an operation.`,
      );
    return { image: response.metadata, etag: editTag(response.etag, response.metadata) };
  } catch (error) {
    const failure = HangarError.from(error);
    if (failure.code === 'not-found')
      throw new HangarError(
        'not-found',
        `${where(remote, project)} has no image ${fingerprint} (it may have been deleted).`,
        { status: 404 },
      );
    throw failure;
  }
}

/** The image and its ETag, for an edit. */
export function imageDocument(
  remotes: RemoteRegistry,
  { remote, project, fingerprint }: CallInput<'images.document'>,
): Promise<ImageForEdit> {
  return remotes
    .lxd(remote)
    .withClient((client) => readImage(client, remote, fingerprint, project));
}

/** PUT with If-Match, then the image as LXD keeps it, with its new ETag. */
export function updateImage(
  remotes: RemoteRegistry,
  readOnly: ReadOnlyProjects,
  input: CallInput<'images.update'>,
): Promise<ImageForEdit> {
  const { remote, project, fingerprint, etag, document } = input;
  if (etag.trim() === '')
    throw new HangarError(
      'invalid-input',
      'Open the image before saving it: Hangar saves only over the version it showed you (its ETag).',
    );
  const expected = splitTag(etag);
  return readOnly.write(remote, project, () =>
    remotes.lxd(remote).withClient(async (client) => {
      const current = await readImage(client, remote, fingerprint, project);
      const image = current.image;
      const outdated = () =>
        new HangarError(
          'outdated',
          `${describeImage(image)} changed on ${where(remote, project)} since you opened it (someone else edited it, perhaps with lxc image edit). Nothing was saved: look at the new version, then save your changes again.`,
          { status: 412 },
        );
      const now = splitTag(current.etag);
      if (
        (expected.extra !== undefined && expected.extra !== now.extra) ||
        (now.lxd !== '' && unquote(now.lxd) !== unquote(expected.lxd))
      )
        throw outdated();
      const problems = documentProblems(document, documentOf(image)).filter(
        (problem) => problem.severity === 'error',
      );
      if (blocking(problems))
        throw new HangarError(
          'invalid-input',
          problems.map((problem) => problem.message).join(' '),
        );
      try {
        await client.request(`/1.0/images/${image.fingerprint}`, {
          method: 'PUT',
          project,
          headers: { 'if-match': expected.lxd },
          body: document,
        });
      } catch (error) {
        // Changed between the read above and the write: LXD checked If-Match.
        if (HangarError.from(error).code === 'outdated') throw outdated();
        throw error;
      }
      return readImage(client, remote, image.fingerprint, project);
    }),
  );
}
