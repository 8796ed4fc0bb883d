/**
 * One LXD remote's connection: its status for the UI, a live lifecycle
 * events stream that turns image changes into `images.changed`, and
 * automatic reconnection when the daemon goes away and comes back.
 */
import type { RemoteStatus } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { AliasEntry } from '../../shared/images/changes.js';
import type { LxdImage, LxdServerInfo } from '../../shared/lxd.js';
import type { EventHub } from '../event-hub.js';
import { listImages } from '../images/list.js';
import {
  LxdClient,
  describeEndpoint,
  isCertificateError,
  systemErrorCode,
  type LxdClientLimits,
  type LxdEndpoint,
} from '../lxd/client.js';
import { certificateFingerprint } from '../tls/certificate.js';
import type { ImageSource, PullSource } from './image-source.js';
import { presentedCertificate } from './trust.js';

export interface ConnectionTarget {
  /** Undefined when there is nothing to connect to (no socket found). */
  endpoint: LxdEndpoint | undefined;
  /** Every socket path or URL looked at. */
  tried: string[];
  /** How to fix a failure, given the system error code if there was one. */
  hint: (errorCode: string | undefined) => string;
  /** A remote added with credentials must be trusted: an untrusted answer means it was revoked. */
  expectTrusted: boolean;
}

function sameEndpoint(a: LxdEndpoint, b: LxdEndpoint): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class LxdConnection implements ImageSource {
  private current: RemoteStatus = { state: 'connecting' };
  private client: LxdClient | undefined;
  private events: { close: () => void } | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly remote: string,
    private readonly locate: () => Promise<ConnectionTarget>,
    private readonly hub: EventHub,
    private readonly retryMs = 2000,
    /** Timeouts and answer sizes for this remote's client (tests shorten them). */
    private readonly limits: Partial<LxdClientLimits> = {},
  ) {}

  get status(): RemoteStatus {
    return this.current;
  }

  /** Connects (once at a time) and keeps retrying in the background on failure. */
  connect(): Promise<void> {
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Forgets the current client (new credentials or certificate) and connects again. */
  async reconnect(): Promise<void> {
    await this.connecting;
    void this.client?.close();
    this.client = undefined;
    await this.connect();
  }

  /** A client for a call; connects first when the remote is not online. */
  async getClient(): Promise<LxdClient> {
    if (this.current.state !== 'online') await this.connect();
    const status = this.current;
    if (status.state === 'unreachable') throw HangarError.fromData(status.error);
    if (this.client === undefined)
      throw new HangarError('internal', 'No LXD client after connecting.');
    return this.client;
  }

  /** Runs `work` with the client; a lost server updates the remote's status at once. */
  async use<T>(work: (client: LxdClient) => Promise<T>): Promise<T> {
    const client = await this.getClient();
    try {
      return await work(client);
    } catch (error) {
      const failure = HangarError.from(error);
      if (failure.code === 'lxd-unreachable' && this.current.state === 'online') {
        void this.locate().then((target) => this.setUnreachable(failure, target));
      }
      throw error;
    }
  }

  watching(): object | undefined {
    return this.current.state === 'online' ? this.events : undefined;
  }

  listImages(project: string | undefined): Promise<LxdImage[]> {
    return this.use((client) => listImages(client, project));
  }

  getImage(fingerprint: string, project: string | undefined): Promise<LxdImage> {
    return this.use((client) => client.get<LxdImage>(`/1.0/images/${fingerprint}`, { project }));
  }

  listAliases(project: string | undefined): Promise<AliasEntry[]> {
    return this.use((client) =>
      client.get<AliasEntry[]>('/1.0/images/aliases', { query: { recursion: '1' }, project }),
    );
  }

  listProjects(): Promise<string[]> {
    return this.use(async (client) => {
      if (this.current.state === 'online' && this.current.auth === 'untrusted') return ['default'];
      const urls = await client.get<string[]>('/1.0/projects');
      return urls.map((url) => decodeURIComponent(url.slice(url.lastIndexOf('/') + 1))).sort();
    });
  }

  /**
   * What lxc sends as the source of a pull: this server's address and
   * certificate, and a one-time secret when the image is private.
   */
  pullSource(image: LxdImage, project: string | undefined): Promise<PullSource | undefined> {
    return this.use(async (client) => {
      const endpoint = client.endpoint;
      let server: string;
      let certificate: string;
      if (endpoint.kind === 'https') {
        server = endpoint.url;
        certificate = endpoint.serverCert ?? '';
      } else {
        const info = await client.get<LxdServerInfo>('/1.0');
        const address = info.environment?.addresses?.[0];
        if (address === undefined) return undefined;
        server = `https://${address}`;
        certificate = info.environment?.certificate ?? '';
      }
      if (image.public) return { server, protocol: 'lxd', certificate };
      const response = await client.request(`/1.0/images/${image.fingerprint}/secret`, {
        method: 'POST',
        body: {},
        project,
      });
      const secret = response.type === 'async' ? response.operation.metadata?.secret : undefined;
      if (typeof secret !== 'string')
        throw new HangarError('lxd-error', `${this.remote} gave no secret to copy the image.`);
      return { server, protocol: 'lxd', certificate, secret };
    });
  }

  /** The client for an action on this server (copy target, upload, export). */
  async withClient<T>(work: (client: LxdClient) => Promise<T>): Promise<T> {
    return this.use(work);
  }

  private async attempt(): Promise<void> {
    clearTimeout(this.retryTimer);
    let target: ConnectionTarget;
    try {
      target = await this.locate();
    } catch (error) {
      this.setUnreachable(HangarError.from(error), {
        endpoint: undefined,
        tried: [],
        hint: () => 'Remove the remote and add it again.',
        expectTrusted: false,
      });
      return;
    }
    // Closed while locating: nothing to connect for.
    if (this.stopped) return;
    if (target.endpoint === undefined) {
      const error = new HangarError(
        'lxd-unreachable',
        `No LXD socket found (looked at ${target.tried.join(', ')}).`,
      );
      this.setUnreachable(error, target);
      return;
    }
    if (this.client === undefined || !sameEndpoint(this.client.endpoint, target.endpoint)) {
      void this.client?.close();
      this.client = undefined;
      try {
        this.client = new LxdClient(target.endpoint, { ...this.limits, remote: this.remote });
      } catch (error) {
        // A pinned certificate or client key that does not parse is this remote's problem, shown on it.
        this.setUnreachable(
          new HangarError(
            'not-trusted',
            `The stored certificate or key for "${this.remote}" cannot be read (${HangarError.from(error).message}). Remove the remote and add it again.`,
          ),
          target,
        );
        return;
      }
    }
    const client = this.client;
    try {
      const info = await client.get<LxdServerInfo>('/1.0');
      if (info.auth !== 'trusted' && target.expectTrusted) {
        throw new HangarError(
          'not-trusted',
          `The server no longer trusts Hangar's client certificate (it was removed from its trust store). Remove the remote "${this.remote}" and add it again with a new trust token.`,
        );
      }
      // Untrusted clients may not follow events; a public remote is listed on demand.
      if (info.auth === 'trusted') await this.followEvents(client);
      this.setStatus({
        state: 'online',
        serverName: info.environment?.server_name ?? '',
        serverVersion: info.environment?.server_version ?? '',
        auth: info.auth,
        endpoint: describeEndpoint(client.endpoint),
      });
    } catch (error) {
      await this.failed(error, target);
    }
  }

  private async followEvents(client: LxdClient): Promise<void> {
    const stream = client.openEvents(
      ['lifecycle'],
      { allProjects: true },
      (event) => {
        const action = typeof event.metadata.action === 'string' ? event.metadata.action : '';
        if (!action.startsWith('image-')) return;
        const source = typeof event.metadata.source === 'string' ? event.metadata.source : '';
        // In a project other than default the source ends with `?project=<name>`.
        const fingerprint = /^\/1\.0\/images\/([0-9a-f]{64})(?:\?|$)/.exec(source)?.[1];
        this.hub.emit('images.changed', {
          remote: this.remote,
          project: event.project ?? 'default',
          action,
          ...(fingerprint === undefined ? {} : { fingerprint }),
        });
      },
      (reason) => {
        if (this.events !== stream || this.stopped) return;
        this.events = undefined;
        void this.locate().then((target) =>
          this.setUnreachable(
            new HangarError(
              'lxd-unreachable',
              `Lost the connection to LXD at ${describeEndpoint(client.endpoint)}: ${reason}.`,
            ),
            target,
          ),
        );
      },
    );
    // Swap before closing: the old stream's close must not read as a lost server.
    const previous = this.events;
    this.events = stream;
    previous?.close();
    await stream.opened;
  }

  /** A pinned server presenting another certificate is told apart from a server that is down. */
  private async failed(error: unknown, target: ConnectionTarget): Promise<void> {
    const endpoint = target.endpoint;
    if (
      endpoint?.kind === 'https' &&
      endpoint.serverCert !== undefined &&
      isCertificateError(error)
    ) {
      const pinned = certificateFingerprint(endpoint.serverCert);
      const presented = await presentedCertificate(endpoint.url).catch(() => undefined);
      if (presented !== undefined && presented.fingerprint !== pinned) {
        this.setUnreachable(
          new HangarError(
            'certificate-changed',
            `${endpoint.url} now presents a different certificate than the one Hangar trusted. This happens when the server was reinstalled or its certificate renewed, and also when someone is intercepting the connection. Compare the fingerprints with \`lxc info\` on the server before trusting the new one.`,
          ),
          target,
          { pinned, presented: presented.fingerprint },
        );
        return;
      }
    }
    this.setUnreachable(HangarError.from(error), target);
  }

  private setUnreachable(
    error: HangarError,
    target: ConnectionTarget,
    certificate?: { pinned: string; presented: string },
  ): void {
    const events = this.events;
    this.events = undefined;
    events?.close();
    this.setStatus({
      state: 'unreachable',
      error: error.toData(),
      tried: target.tried,
      hint: target.hint(systemErrorCode(error.cause)),
      ...(certificate === undefined ? {} : { certificate }),
    });
    // Only the user can fix trust: retrying would ask the server the same question forever.
    const userMustAct = error.code === 'certificate-changed' || error.code === 'not-trusted';
    if (!this.stopped && !userMustAct) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    }
  }

  private setStatus(status: RemoteStatus): void {
    const changed = JSON.stringify(status) !== JSON.stringify(this.current);
    this.current = status;
    if (changed) this.hub.emit('remote.status', { remote: this.remote, status });
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.events?.close();
    this.events = undefined;
    await this.client?.close();
  }
}
