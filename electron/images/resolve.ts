import { HangarError } from '../../shared/errors.js';
import type { ImageType, LxdImage, LxdImageAlias } from '../../shared/lxd.js';
import type { ImageSource } from '../remotes/image-source.js';

/**
 * An image named the way lxc accepts it: an alias first, then a full or
 * unique short fingerprint. Simplestreams aliases name a container and a VM
 * image alike; `type` picks one.
 */
export async function resolveImage(
  source: ImageSource,
  remote: string,
  ref: string,
  project: string | undefined,
  type: ImageType = 'container',
): Promise<LxdImage> {
  const aliases = (await source.listAliases(project)) as (LxdImageAlias & {
    target: string;
    type?: ImageType;
  })[];
  const named = aliases.filter((alias) => alias.name === ref);
  const alias = named.find((candidate) => (candidate.type ?? type) === type) ?? named[0];
  if (alias !== undefined) return source.getImage(alias.target, project);
  if (!/^[0-9a-f]+$/.test(ref))
    throw new HangarError('not-found', `${remote} has no image or alias named "${ref}".`);
  try {
    return await source.getImage(ref, project);
  } catch (error) {
    const failure = HangarError.from(error);
    if (failure.code === 'not-found')
      throw new HangarError('not-found', `${remote} has no image or alias "${ref}".`);
    throw failure;
  }
}
