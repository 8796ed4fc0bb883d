/**
 * What the user may do with a remote's images: LXD servers that trust
 * Hangar are editable, simplestreams servers and public-only remotes are
 * not, nor a project where LXD refused a change.
 */
import type { CallInput, ImageAccess } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { LxdServerInfo } from '../../shared/lxd.js';
import type { LxdClient } from '../lxd/client.js';
import { LxdConnection } from '../remotes/lxd-connection.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import type { ReadOnlyProjects } from './read-only.js';

/** LXD's default for images.remote_cache_expiry. */
const DEFAULT_CACHE_EXPIRY_DAYS = 10;

const days = (value: unknown): number | undefined => {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
};

/** The project's images.remote_cache_expiry, else the server's, else LXD's default. */
async function cacheExpiryDays(
  client: LxdClient,
  server: Record<string, unknown> | undefined,
  project: string | undefined,
): Promise<number> {
  let projectConfig: Record<string, unknown> | undefined;
  try {
    const found = await client.get<{ config?: Record<string, unknown> }>(
      `/1.0/projects/${encodeURIComponent(project ?? 'default')}`,
    );
    projectConfig = found.config;
  } catch (error) {
    // A client restricted to other projects may not read this one: the server's setting stands.
    if (HangarError.from(error).code === 'lxd-unreachable') throw error;
  }
  return (
    days(projectConfig?.['images.remote_cache_expiry']) ??
    days(server?.['images.remote_cache_expiry']) ??
    DEFAULT_CACHE_EXPIRY_DAYS
  );
}

export async function imageAccess(
  remotes: RemoteRegistry,
  readOnly: ReadOnlyProjects,
  { remote, project }: CallInput<'images.access'>,
): Promise<ImageAccess> {
  const connection = remotes.connection(remote);
  if (!(connection instanceof LxdConnection))
    return {
      editable: false,
      reason: `${remote} is a simplestreams image server: its images are read-only.`,
    };
  return connection.withClient(async (client) => {
    const info = await client.get<LxdServerInfo & { config?: Record<string, unknown> }>('/1.0');
    if (info.auth !== 'trusted')
      return {
        editable: false,
        reason: `${remote} was added as a public remote: it does not trust Hangar, which sees only its public images and cannot change them. To edit its images, remove ${remote} and add it again with a trust token.`,
      };
    const cache = await cacheExpiryDays(client, info.config, project);
    const refused = readOnly.reason(remote, project);
    return refused === undefined
      ? { editable: true, cacheExpiryDays: cache }
      : { editable: false, reason: refused, cacheExpiryDays: cache };
  });
}
