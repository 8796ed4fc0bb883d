/**
 * Live updates without re-listing: LXD needs seconds to list thousands of
 * images, so each lifecycle event is turned into the smallest read that
 * brings the list up to date.
 */
import type { LxdImage, LxdImageAlias } from '../lxd.js';

/** One `images.changed` event: LXD's lifecycle action and the image it names, if any. */
export interface ImageChange {
  action: string;
  fingerprint?: string;
}

/** What to read to apply a batch of changes. */
export interface ChangePlan {
  /** Nothing narrower fits: list everything again. */
  reload: boolean;
  removed: Set<string>;
  /** Images to read again (created, updated, refreshed, retrieved). */
  fetch: Set<string>;
  /** An alias changed somewhere: read the alias list (one cheap request). */
  aliases: boolean;
}

export function planChanges(changes: ImageChange[]): ChangePlan {
  const plan: ChangePlan = { reload: false, removed: new Set(), fetch: new Set(), aliases: false };
  for (const { action, fingerprint } of changes) {
    if (action.startsWith('image-alias-')) {
      plan.aliases = true;
    } else if (fingerprint === undefined) {
      plan.reload = true;
    } else if (action === 'image-deleted') {
      plan.removed.add(fingerprint);
      plan.fetch.delete(fingerprint);
    } else {
      plan.fetch.add(fingerprint);
      plan.removed.delete(fingerprint);
    }
  }
  return plan;
}

export interface AliasEntry extends LxdImageAlias {
  target: string;
}

/** Applies what was read: removals, fresh copies of images, and every image's aliases. */
export function applyChanges(
  images: LxdImage[],
  update: { removed: Iterable<string>; fetched: LxdImage[]; aliases?: AliasEntry[] },
): LxdImage[] {
  const byFingerprint = new Map(images.map((image) => [image.fingerprint, image]));
  for (const fingerprint of update.removed) byFingerprint.delete(fingerprint);
  for (const image of update.fetched) byFingerprint.set(image.fingerprint, image);
  const result = [...byFingerprint.values()];
  if (update.aliases === undefined) return result;
  const aliasesOf = new Map<string, LxdImageAlias[]>();
  for (const { name, description, target } of update.aliases) {
    aliasesOf.set(target, [...(aliasesOf.get(target) ?? []), { name, description }]);
  }
  return result.map((image) => ({ ...image, aliases: aliasesOf.get(image.fingerprint) ?? [] }));
}
