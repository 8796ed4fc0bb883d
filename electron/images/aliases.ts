import type { LxdImageAlias } from '../../shared/lxd.js';
import type { LxdClient } from '../lxd/client.js';

/**
 * Points aliases at an image, as lxc does after a copy or an import: an
 * alias that already exists is moved (deleted and created again).
 */
export async function pointAliases(
  client: LxdClient,
  aliases: LxdImageAlias[],
  fingerprint: string,
  project: string | undefined,
): Promise<void> {
  if (aliases.length === 0) return;
  // Names from the objects: LXD 5.0 encodes alias URLs twice.
  const existing = new Set(
    (
      await client.get<{ name: string }[]>('/1.0/images/aliases', {
        query: { recursion: '1' },
        project,
      })
    ).map((alias) => alias.name),
  );
  const seen = new Set<string>();
  for (const alias of aliases) {
    if (seen.has(alias.name)) continue;
    seen.add(alias.name);
    if (existing.has(alias.name))
      await client.request(`/1.0/images/aliases/${encodeURIComponent(alias.name)}`, {
        method: 'DELETE',
        project,
      });
    await client.request('/1.0/images/aliases', {
      method: 'POST',
      project,
      body: { name: alias.name, description: alias.description, target: fingerprint },
    });
  }
}
