/**
 * Asking an image's update source (`update_source`: server, protocol, alias)
 * which image its alias names now, the way LXD's auto-update asks it
 * (lxd/daemon_images.go ImageDownload in LXD 5.0): an LXD server as a public
 * client, in its default project; a simplestreams server through its catalog.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { HangarError } from '../../shared/errors.js';
import type { ImageType, LxdImage } from '../../shared/lxd.js';
import { LxdClient } from '../lxd/client.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { architectureName } from '../simplestreams/architectures.js';
import { SimplestreamsClient } from '../simplestreams/client.js';

/** One question to a source: what the alias names for an image of this type and architecture. */
export interface UpdateSource {
  server: string;
  protocol: string;
  alias: string;
  architecture: string;
  type: ImageType;
  /** PEM LXD pinned for an LXD server; empty for a server with a public CA. */
  certificate: string;
}

/** Servers are compared by origin and path: `https://h:8443/` and `https://H:8443` are one. */
export function sameServer(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return (
      x.protocol === y.protocol &&
      x.host === y.host &&
      x.pathname.replace(/\/+$/, '') === y.pathname.replace(/\/+$/, '')
    );
  } catch {
    return a === b;
  }
}

async function aliasTarget(
  client: LxdClient,
  source: UpdateSource,
  signal: AbortSignal,
): Promise<string> {
  let entry: { target: string; type?: string };
  try {
    entry = await client.get(`/1.0/images/aliases/${encodeURIComponent(source.alias)}`, {
      signal,
    });
  } catch (error) {
    const failure = HangarError.from(error);
    if (failure.code === 'not-found')
      throw new HangarError(
        'not-found',
        `${source.server} has no public alias "${source.alias}" any more.`,
      );
    throw failure;
  }
  if (entry.type !== undefined && entry.type !== '' && entry.type !== source.type)
    throw new HangarError(
      'not-found',
      `"${source.alias}" on ${source.server} now names a ${entry.type} image, not a ${source.type} one.`,
    );
  const target = await client.get<LxdImage>(`/1.0/images/${entry.target}`, { signal });
  // A trusted connection sees private images too; LXD refreshes as a public client and cannot.
  if (!target.public)
    throw new HangarError(
      'not-trusted',
      `"${source.alias}" on ${source.server} now names a private image, which LXD cannot refresh from.`,
    );
  return target.fingerprint;
}

/**
 * The alias's target on an LXD server: through the Hangar remote at that
 * address when there is one (trusted, pinned), else as a public client
 * pinned to the certificate LXD recorded.
 */
export async function latestFromLxd(
  remotes: RemoteRegistry,
  source: UpdateSource,
  signal: AbortSignal,
): Promise<string> {
  const known = remotes
    .list()
    .find((remote) => remote.protocol === 'lxd' && sameServer(remote.addr, source.server));
  if (known !== undefined)
    return remotes.lxd(known.name).withClient((client) => aliasTarget(client, source, signal));
  const client = new LxdClient({
    kind: 'https',
    url: source.server,
    ...(source.certificate === '' ? {} : { serverCert: source.certificate }),
  });
  try {
    return await aliasTarget(client, source, signal);
  } finally {
    await client.close();
  }
}

/**
 * Catalog clients for simplestreams sources, one per server and architecture:
 * the catalog code resolves an alias for the host architecture it is given,
 * so the image's own architecture stands for the host of the daemon that
 * pulled it. Each keeps its files on disk, so asking again costs a 304.
 */
export class SourceCatalogs {
  private readonly clients = new Map<string, SimplestreamsClient>();

  constructor(private readonly remotes: RemoteRegistry) {}

  private client(server: string, architecture: string): SimplestreamsClient {
    const key = `${server}\0${architecture}`;
    let client = this.clients.get(key);
    if (client === undefined) {
      const digest = createHash('sha256').update(server).digest('hex').slice(0, 32);
      const ca = this.remotes.extraCa;
      client = new SimplestreamsClient({
        url: server,
        cacheDir: join(this.remotes.appInfo().dataDir, 'cache', 'update-sources', digest),
        hostArchitectures: [architecture],
        ...(ca === undefined ? {} : { ca }),
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /** What the alias names for the image's type and architecture, as LXD resolves it. */
  async latest(source: UpdateSource, signal: AbortSignal): Promise<string> {
    const architecture = architectureName(source.architecture) ?? source.architecture;
    // Revalidated (conditionally): a catalog kept in memory may predate the change asked about.
    const catalog = await this.client(source.server, architecture).load({ force: true, signal });
    if (catalog.offlineError !== undefined) throw HangarError.fromData(catalog.offlineError);
    const alias = catalog.aliases.find(
      (candidate) => candidate.name === source.alias && candidate.type === source.type,
    );
    if (alias === undefined)
      throw new HangarError(
        'not-found',
        `The catalog of ${source.server} has no ${source.type} alias "${source.alias}" any more.`,
      );
    return alias.target;
  }

  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.close()));
  }
}
