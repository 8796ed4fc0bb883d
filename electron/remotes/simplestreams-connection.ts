/**
 * A simplestreams remote: its catalog is fetched when first browsed (not at
 * startup: public catalogs are megabytes), cached on disk, and shown from
 * the cache with its age when the server cannot be reached.
 */
import type { RemoteStatus } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { AliasEntry } from '../../shared/images/changes.js';
import type { LxdImage } from '../../shared/lxd.js';
import type { EventHub } from '../event-hub.js';
import { SimplestreamsClient, type Catalog } from '../simplestreams/client.js';
import type { PullSource, RemoteConnection } from './image-source.js';

export class SimplestreamsConnection implements RemoteConnection {
  private current: RemoteStatus = { state: 'connecting' };
  private readonly client: SimplestreamsClient;

  constructor(
    readonly remote: string,
    readonly url: string,
    cacheDir: string,
    private readonly hub: EventHub,
    ca: string | undefined,
  ) {
    this.client = new SimplestreamsClient({ url, cacheDir, ...(ca === undefined ? {} : { ca }) });
  }

  get status(): RemoteStatus {
    return this.current;
  }

  /** Nothing to hold open: the catalog is read when images are listed. */
  connect(): Promise<void> {
    return Promise.resolve();
  }

  private async catalog(force = false): Promise<Catalog> {
    try {
      const catalog = await this.client.load({ force });
      this.setStatus({
        state: 'online',
        serverName: new URL(this.url).host,
        serverVersion: 'simplestreams',
        auth: 'untrusted',
        endpoint: this.url,
        catalog: {
          fetchedAt: catalog.fetchedAt,
          ...(catalog.offlineError === undefined ? {} : { offlineError: catalog.offlineError }),
        },
      });
      return catalog;
    } catch (error) {
      const failure = HangarError.from(error);
      this.setStatus({
        state: 'unreachable',
        error: failure.toData(),
        tried: [`${this.url}/streams/v1/index.json`],
        hint: 'Check the address and your network. Hangar shows the last catalog it read when the server is offline; it has none for this remote yet.',
      });
      throw failure;
    }
  }

  /** A listing is the user asking for the current catalog: revalidate it. */
  async listImages(): Promise<LxdImage[]> {
    return (await this.catalog(true)).images;
  }

  async getImage(fingerprint: string): Promise<LxdImage> {
    const matches = (await this.catalog()).images.filter((image) =>
      image.fingerprint.startsWith(fingerprint),
    );
    const [match] = matches;
    if (match === undefined)
      throw new HangarError('not-found', `No image ${fingerprint} on ${this.remote}.`);
    if (matches.length > 1)
      throw new HangarError(
        'invalid-input',
        `The fingerprint ${fingerprint} matches ${matches.length} images on ${this.remote}: give more of it.`,
      );
    return match;
  }

  async listAliases(): Promise<AliasEntry[]> {
    return (await this.catalog()).aliases;
  }

  /** The target LXD downloads from the server itself, trusting it through its own CA store. */
  pullSource(): Promise<PullSource> {
    return Promise.resolve({ server: this.url, protocol: 'simplestreams', certificate: '' });
  }

  /** Simplestreams has no projects; lxc shows its images in every one. */
  listProjects(): Promise<string[]> {
    return Promise.resolve(['default']);
  }

  private setStatus(status: RemoteStatus): void {
    const changed = JSON.stringify(status) !== JSON.stringify(this.current);
    this.current = status;
    if (changed) this.hub.emit('remote.status', { remote: this.remote, status });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
