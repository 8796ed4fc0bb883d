/**
 * One LXD remote's connection: its status for the UI, a live lifecycle
 * events stream that turns image changes into `images.changed`, and
 * automatic reconnection when the daemon goes away and comes back.
 */
import type { RemoteStatus } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { LxdServerInfo } from '../../shared/lxd.js';
import type { EventHub } from '../event-hub.js';
import { LxdClient, describeEndpoint, type LxdEndpoint } from '../lxd/client.js';

export interface ConnectionTarget {
  /** Undefined when there is nothing to connect to (no socket found). */
  endpoint: LxdEndpoint | undefined;
  /** Every socket path or URL looked at. */
  tried: string[];
  /** How to fix a failure, given the system error code if there was one. */
  hint: (errorCode: string | undefined) => string;
}

function systemErrorCode(error: HangarError): string | undefined {
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function sameEndpoint(a: LxdEndpoint, b: LxdEndpoint): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class LxdConnection {
  private current: RemoteStatus = { state: 'connecting' };
  private client: LxdClient | undefined;
  private events: { close: () => void } | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly remote: string,
    private readonly locate: () => ConnectionTarget,
    private readonly hub: EventHub,
    private readonly retryMs = 2000,
  ) {}

  get status(): RemoteStatus {
    return this.current;
  }

  /** Where the remote is, as `lxc remote list` shows it: the socket used, or the first one tried. */
  get address(): string {
    const { endpoint, tried } = this.locate();
    if (endpoint === undefined) return `unix://${tried[0] ?? ''}`;
    return endpoint.kind === 'unix' ? `unix://${endpoint.socketPath}` : endpoint.url;
  }

  /** Connects (once at a time) and keeps retrying in the background on failure. */
  connect(): Promise<void> {
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
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

  /** A call found the server gone: show it now rather than at the next event. */
  reportFailure(error: HangarError): void {
    if (error.code === 'lxd-unreachable' && this.current.state === 'online') {
      this.setUnreachable(error, this.locate());
    }
  }

  private async attempt(): Promise<void> {
    clearTimeout(this.retryTimer);
    const target = this.locate();
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
      this.client = new LxdClient(target.endpoint);
    }
    const client = this.client;
    try {
      const info = await client.get<LxdServerInfo>('/1.0');
      const stream = client.openEvents(
        ['lifecycle'],
        { allProjects: info.auth === 'trusted' },
        (event) => {
          const action = typeof event.metadata.action === 'string' ? event.metadata.action : '';
          if (!action.startsWith('image-')) return;
          const source = typeof event.metadata.source === 'string' ? event.metadata.source : '';
          const fingerprint = /^\/1\.0\/images\/([0-9a-f]{64})$/.exec(source)?.[1];
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
          this.setUnreachable(
            new HangarError(
              'lxd-unreachable',
              `Lost the connection to LXD at ${describeEndpoint(client.endpoint)}: ${reason}.`,
            ),
            this.locate(),
          );
        },
      );
      // Swap before closing: the old stream's close must not read as a lost server.
      const previous = this.events;
      this.events = stream;
      previous?.close();
      await stream.opened;
      this.setStatus({
        state: 'online',
        serverName: info.environment?.server_name ?? '',
        serverVersion: info.environment?.server_version ?? '',
        auth: info.auth,
        endpoint: describeEndpoint(client.endpoint),
      });
    } catch (error) {
      this.setUnreachable(HangarError.from(error), target);
    }
  }

  private setUnreachable(error: HangarError, target: ConnectionTarget): void {
    const events = this.events;
    this.events = undefined;
    events?.close();
    this.setStatus({
      state: 'unreachable',
      error: error.toData(),
      tried: target.tried,
      hint: target.hint(systemErrorCode(error)),
    });
    if (!this.stopped) {
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
