/**
 * The instances created from images (their `volatile.base_image`), in every
 * project: what Delete shows before images go (the instances keep working).
 */
import type { CallInput, ImageUsage } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { LxdServerInfo } from '../../shared/lxd.js';
import type { LxdClient } from '../lxd/client.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { where } from './read-only.js';

interface InstanceEntry {
  name: string;
  project?: string;
  config?: Record<string, string>;
}

/** The full fingerprints of a project's images. */
export async function listFingerprints(
  client: LxdClient,
  project: string | undefined,
): Promise<string[]> {
  return (await client.get<string[]>('/1.0/images', { project })).flatMap(
    (url) => /\/1\.0\/images\/([0-9a-f]{64})/.exec(url)?.[1] ?? [],
  );
}

/** The fingerprints that start with `prefix`. */
export const matching = (known: string[], prefix: string) =>
  known.filter((candidate) => candidate.startsWith(prefix));

/**
 * Full fingerprints for full or short ones, as lxc accepts them; a short
 * one that matches no image, or several, is refused.
 */
export async function fullFingerprints(
  client: LxdClient,
  remote: string,
  project: string | undefined,
  fingerprints: string[],
): Promise<string[]> {
  if (fingerprints.every((fingerprint) => fingerprint.length === 64)) return fingerprints;
  const known = await listFingerprints(client, project);
  return fingerprints.map((fingerprint) => {
    if (fingerprint.length === 64) return fingerprint;
    const matches = matching(known, fingerprint);
    const [only] = matches;
    if (only !== undefined && matches.length === 1) return only;
    throw new HangarError(
      'not-found',
      matches.length === 0
        ? `${where(remote, project)} has no image ${fingerprint}.`
        : `${fingerprint} is the start of ${matches.length} fingerprints on ${where(remote, project)}: give more of it.`,
    );
  });
}

export function imageUsage(
  remotes: RemoteRegistry,
  { remote, project, fingerprints }: CallInput<'images.usage'>,
): Promise<ImageUsage[]> {
  return remotes.lxd(remote).withClient(async (client) => {
    const wanted = [...new Set(await fullFingerprints(client, remote, project, fingerprints))];
    const info = await client.get<LxdServerInfo>('/1.0');
    // Before instance_all_projects, only the project's own instances can be listed at once.
    const allProjects = info.api_extensions.includes('instance_all_projects');
    const instances = await client.get<InstanceEntry[]>('/1.0/instances', {
      query: { recursion: '1', 'all-projects': allProjects ? 'true' : undefined },
      ...(allProjects ? {} : { project }),
    });
    return wanted.map((fingerprint) => ({
      fingerprint,
      instances: instances
        .filter((instance) => instance.config?.['volatile.base_image'] === fingerprint)
        .map((instance) => ({
          name: instance.name,
          project: instance.project ?? project ?? 'default',
        }))
        .sort((a, b) => a.project.localeCompare(b.project) || a.name.localeCompare(b.name)),
    }));
  });
}
