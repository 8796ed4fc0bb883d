/**
 * The remotes Hangar knows and their live connections: lxc's built-in ones
 * (`local` on this machine's socket, the public image servers) and the ones
 * the user added, persisted with their pinned certificates.
 */
import { join } from 'node:path';
import type {
  AppInfo,
  CallInput,
  LxcImportOffer,
  RemoteSummary,
  ServerProbe,
} from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import type { EventHub } from '../event-hub.js';
import { defaultExportDir } from '../data-dir.js';
import type { LxdClientLimits } from '../lxd/client.js';
import { findLocalSocket, localSocketHint } from '../lxd/local-socket.js';
import { RemotesConfig, type RemoteEntry } from './config.js';
import { ClientIdentity, type SecretCodec } from './identity.js';
import type { RemoteConnection } from './image-source.js';
import { lxcConfigDir, readLxcConfig, type LxcConfig } from './lxc-import.js';
import { LxdConnection, type ConnectionTarget } from './lxd-connection.js';
import { SimplestreamsConnection } from './simplestreams-connection.js';
import {
  authenticate,
  decodeTrustToken,
  normalizeLxdAddress,
  normalizeSimplestreamsAddress,
  pinnedClient,
  presentedCertificate,
  probeServer,
  probeToken,
  type ProbedServer,
} from './trust.js';

export interface RegistryOptions {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  secrets: SecretCodec;
  hub: EventHub;
  retryMs?: number | undefined;
  /** Timeouts and answer sizes of LXD clients (tests shorten them); LxdClient's defaults otherwise. */
  lxdLimits?: Partial<LxdClientLimits> | undefined;
  /** Extra CA certificates (PEM) trusted for simplestreams servers, besides the system's. */
  extraCa?: string | undefined;
  /** Present in the desktop app: the OS's folder picker. */
  chooseFolder?: FolderChooser | undefined;
}

/** Asks the user for a folder; null when they closed the picker. */
export type FolderChooser = (options: {
  title: string;
  defaultPath?: string | undefined;
}) => Promise<string | null>;

function httpsHint(code: string | undefined): string {
  if (code === 'ECONNREFUSED')
    return 'Nothing answered at that address. Check that LXD listens on the network (on the server: lxc config set core.https_address :8443). Hangar reconnects by itself.';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return 'The host name does not resolve. Check the address. Hangar reconnects by itself.';
  return 'Check the address, the network and that the server is running. Hangar reconnects by itself.';
}

/** A remote just added; a simplestreams remote's catalog, read to validate it, comes along. */
export interface AddedRemote {
  summary: RemoteSummary;
  catalog?: LxdImage[];
}

export class RemoteRegistry {
  private readonly connections = new Map<string, RemoteConnection>();

  private constructor(
    private readonly options: RegistryOptions,
    private readonly config: RemotesConfig,
    readonly identity: ClientIdentity,
  ) {
    for (const [name, entry] of config.entries()) this.open(name, entry);
  }

  static async open(options: RegistryOptions): Promise<RemoteRegistry> {
    const config = await RemotesConfig.load(options.dataDir);
    if (config.firstRun) await config.save();
    return new RemoteRegistry(
      options,
      config,
      new ClientIdentity(options.dataDir, options.secrets),
    );
  }

  private open(name: string, entry: RemoteEntry): RemoteConnection {
    const { hub, retryMs, env, dataDir, extraCa, lxdLimits } = this.options;
    let connection: RemoteConnection;
    if (entry.protocol === 'simplestreams') {
      connection = new SimplestreamsConnection(
        name,
        entry.addr,
        join(dataDir, 'cache', 'simplestreams', name),
        hub,
        extraCa,
      );
    } else if (entry.addr.startsWith('unix:')) {
      connection = new LxdConnection(
        name,
        () => {
          const search = findLocalSocket(env);
          return Promise.resolve({
            endpoint:
              search.found === undefined ? undefined : { kind: 'unix', socketPath: search.found },
            tried: search.tried,
            hint: (code) => localSocketHint(search, code),
            expectTrusted: false,
          });
        },
        hub,
        retryMs,
        lxdLimits,
      );
    } else {
      connection = new LxdConnection(
        name,
        () => this.httpsTarget(name, entry),
        hub,
        retryMs,
        lxdLimits,
      );
    }
    this.connections.set(name, connection);
    return connection;
  }

  private async httpsTarget(name: string, entry: RemoteEntry): Promise<ConnectionTarget> {
    const serverCert = await this.config.serverCert(name);
    if (serverCert === undefined)
      throw new HangarError(
        'not-trusted',
        `No pinned certificate for "${name}" (servercerts/${name}.crt is missing).`,
      );
    const identity = entry.public ? undefined : await this.identity.load();
    if (!entry.public && identity === undefined)
      throw new HangarError('not-trusted', `Hangar has no client certificate for "${name}".`);
    return {
      endpoint: {
        kind: 'https',
        url: entry.addr,
        serverCert,
        ...(identity === undefined
          ? {}
          : { clientCert: identity.certificate, clientKey: identity.key }),
      },
      tried: [entry.addr],
      hint: httpsHint,
      expectTrusted: !entry.public,
    };
  }

  /** The local socket is shown as lxc shows it: the socket in use, or the first one looked at. */
  private displayAddress(entry: RemoteEntry): string {
    if (!entry.addr.startsWith('unix:')) return entry.addr;
    const search = findLocalSocket(this.options.env);
    return `unix://${search.found ?? search.tried[0] ?? ''}`;
  }

  list(): RemoteSummary[] {
    return this.config.entries().map(([name, entry]) => this.summary(name, entry));
  }

  private summary(name: string, entry: RemoteEntry): RemoteSummary {
    return {
      name,
      protocol: entry.protocol,
      addr: this.displayAddress(entry),
      authType: entry.addr.startsWith('unix:')
        ? 'file access'
        : entry.protocol === 'lxd' && !entry.public
          ? 'tls'
          : 'none',
      public: entry.public,
      static: this.config.isStatic(name),
      isDefault: name === this.config.defaultRemote,
    };
  }

  connection(name: string): RemoteConnection {
    const connection = this.connections.get(name);
    if (connection === undefined)
      throw new HangarError('unknown-remote', `There is no remote named "${name}".`);
    return connection;
  }

  private changed(): void {
    this.options.hub.emit('remotes.changed', { remotes: this.list() });
  }

  async probe(input: CallInput<'remotes.probe'>): Promise<ServerProbe> {
    const identity = await this.identity.load();
    const probed: ProbedServer =
      'token' in input
        ? await probeToken(decodeTrustToken(input.token), identity)
        : await probeServer(normalizeLxdAddress(input.addr), identity);
    // The PEM stays here: the renderer needs only what the user compares.
    return {
      url: probed.url,
      certificate: probed.certificate,
      auth: probed.auth,
      serverName: probed.serverName,
      serverVersion: probed.serverVersion,
      ...(probed.tokenClientName === undefined ? {} : { tokenClientName: probed.tokenClientName }),
    };
  }

  /** Adds a remote; a simplestreams remote comes with the catalog read to validate it. */
  async add(input: CallInput<'remotes.add'>): Promise<AddedRemote> {
    if (this.config.has(input.name))
      throw new HangarError('conflict', `A remote named "${input.name}" already exists.`);
    if (input.protocol === 'simplestreams') {
      const entry: RemoteEntry = {
        addr: normalizeSimplestreamsAddress(input.addr),
        protocol: 'simplestreams',
        public: true,
      };
      // Read the catalog before saving: an address that is not a simplestreams server is refused.
      const connection = this.open(input.name, entry);
      let catalog: LxdImage[];
      try {
        catalog = await connection.listImages(undefined);
      } catch (error) {
        this.connections.delete(input.name);
        throw error;
      }
      await this.config.add(input.name, entry);
      this.changed();
      return { summary: this.summary(input.name, entry), catalog };
    }

    const { auth } = input;
    const token = auth.method === 'token' ? decodeTrustToken(auth.token) : undefined;
    const url = input.addr === undefined ? undefined : normalizeLxdAddress(input.addr);
    if (url === undefined && token === undefined)
      throw new HangarError('invalid-input', 'Enter the server address, or paste a trust token.');
    if (token !== undefined && token.fingerprint !== input.acceptedFingerprint)
      throw new HangarError(
        'invalid-input',
        'The certificate you confirmed is not the one the trust token names.',
      );
    // Reconnect and check the server still presents the certificate the user confirmed.
    const identity = auth.method === 'public' ? undefined : await this.identity.ensure();
    const probed =
      token !== undefined
        ? await probeToken(token, identity, input.addr)
        : await probeServer(url ?? '', identity);
    if (probed.certificate.fingerprint !== input.acceptedFingerprint)
      throw new HangarError(
        'certificate-changed',
        `${probed.url} now presents certificate ${probed.certificate.fingerprint}, not the ${input.acceptedFingerprint} you confirmed. Check the server and try again.`,
      );
    // Public (`lxc remote add --public`): untrusted clients see the public images, nothing to do.
    if (auth.method !== 'public') {
      const client = pinnedClient(probed.url, probed.pem, identity);
      try {
        await authenticate(
          client,
          auth.method === 'token' ? { token: auth.token } : { password: auth.password },
        );
      } finally {
        await client.close();
      }
    }
    const entry: RemoteEntry = {
      addr: probed.url,
      protocol: 'lxd',
      public: auth.method === 'public',
    };
    await this.config.add(input.name, entry, probed.pem);
    void this.open(input.name, entry).connect();
    this.changed();
    return { summary: this.summary(input.name, entry) };
  }

  async remove(name: string): Promise<void> {
    await this.config.remove(name);
    const connection = this.connections.get(name);
    this.connections.delete(name);
    await connection?.close();
    this.changed();
  }

  async rename(name: string, newName: string): Promise<RemoteSummary> {
    await this.config.rename(name, newName);
    const entry = this.config.entries().find(([candidate]) => candidate === newName)?.[1];
    if (entry === undefined) throw new HangarError('internal', `Lost remote "${newName}".`);
    const old = this.connections.get(name);
    this.connections.delete(name);
    await old?.close();
    void this.open(newName, entry).connect();
    this.changed();
    return this.summary(newName, entry);
  }

  async setDefault(name: string): Promise<void> {
    await this.config.setDefault(name);
    this.changed();
  }

  /** Pins what the server presents now, if it is what the user compared. */
  async trustCertificate(name: string, fingerprint: string): Promise<void> {
    const entry = this.config.entries().find(([candidate]) => candidate === name)?.[1];
    if (entry?.protocol !== 'lxd' || entry.addr.startsWith('unix:'))
      throw new HangarError('invalid-input', `"${name}" has no server certificate to trust.`);
    const presented = await presentedCertificate(entry.addr);
    if (presented.fingerprint !== fingerprint)
      throw new HangarError(
        'certificate-changed',
        `${entry.addr} presents ${presented.fingerprint}, not the ${fingerprint} you confirmed.`,
      );
    await this.config.pinCertificate(name, presented.pem);
    const connection = this.connection(name);
    if (connection instanceof LxdConnection) await connection.reconnect();
  }

  private async lxcConfig(): Promise<LxcConfig | undefined> {
    const dir = lxcConfigDir(this.options.env);
    return dir === undefined ? undefined : readLxcConfig(dir);
  }

  /** Offered until the user answers, when lxc has remotes Hangar does not. */
  async lxcOffer(): Promise<LxcImportOffer | null> {
    if (this.config.lxcImport !== undefined) return null;
    const lxc = await this.lxcConfig();
    if (lxc === undefined) return null;
    const ownIdentity = await this.identity.load();
    const remotes = lxc.remotes
      .filter((remote) => !this.config.isStatic(remote.name))
      .map((remote) => {
        const existing = this.config.entries().find(([name]) => name === remote.name)?.[1];
        const conflict =
          remote.unsupported ??
          (existing !== undefined
            ? existing.addr === remote.addr
              ? 'already in Hangar'
              : 'Hangar has a remote of that name'
            : remote.protocol === 'lxd' && !remote.public && ownIdentity !== undefined
              ? 'Hangar has its own client certificate: add this remote with a trust token'
              : undefined);
        return {
          name: remote.name,
          addr: remote.addr,
          protocol: remote.protocol,
          public: remote.public,
          ...(conflict === undefined ? {} : { conflict }),
        };
      });
    if (remotes.every((remote) => remote.conflict !== undefined)) return null;
    return {
      configDir: lxc.dir,
      remotes,
      hasClientCertificate: lxc.clientCertificate !== undefined,
    };
  }

  async importLxc(names: string[]): Promise<RemoteSummary[]> {
    const offer = await this.lxcOffer();
    const lxc = await this.lxcConfig();
    if (offer === null || lxc === undefined)
      throw new HangarError('invalid-input', 'There is nothing to import from lxc.');
    const chosen = offer.remotes.filter((remote) => names.includes(remote.name));
    const refused = chosen.find((remote) => remote.conflict !== undefined);
    if (refused !== undefined)
      throw new HangarError(
        'invalid-input',
        `Cannot import "${refused.name}": ${refused.conflict ?? ''}.`,
      );
    const needsIdentity = chosen.some((remote) => remote.protocol === 'lxd' && !remote.public);
    if (needsIdentity) {
      if (lxc.clientCertificate === undefined)
        throw new HangarError(
          'invalid-input',
          `${lxc.dir} has no client.crt and client.key to import.`,
        );
      await this.identity.adopt(lxc.clientCertificate, lxc.dir);
    }
    const imported: RemoteSummary[] = [];
    for (const remote of chosen) {
      const source = lxc.remotes.find((candidate) => candidate.name === remote.name);
      const entry: RemoteEntry = {
        addr: remote.protocol === 'lxd' ? normalizeLxdAddress(remote.addr) : remote.addr,
        protocol: remote.protocol,
        public: remote.public,
      };
      await this.config.add(remote.name, entry, source?.serverCert);
      void this.open(remote.name, entry).connect();
      imported.push(this.summary(remote.name, entry));
    }
    if (lxc.defaultRemote !== undefined && names.includes(lxc.defaultRemote))
      await this.config.setDefault(lxc.defaultRemote);
    await this.config.setLxcImport('imported');
    this.changed();
    return imported;
  }

  async dismissLxcImport(): Promise<void> {
    await this.config.setLxcImport('dismissed');
  }

  appInfo(): AppInfo {
    const { secrets, dataDir } = this.options;
    return {
      dataDir,
      exportDir: defaultExportDir(this.options.env),
      keyStorage: secrets.encrypted ? 'encrypted' : 'plaintext',
      ...(secrets.notice === undefined ? {} : { keyStorageNotice: secrets.notice }),
      canChooseFolder: this.options.chooseFolder !== undefined,
    };
  }

  /** The OS's folder picker, where there is one (the desktop app). */
  chooseFolder(options: Parameters<FolderChooser>[0]): Promise<string | null> {
    const choose = this.options.chooseFolder;
    if (choose === undefined)
      throw new HangarError(
        'invalid-input',
        'Choosing a folder needs the desktop app: in web mode, type the folder path.',
      );
    return choose(options);
  }

  /** Extra CA certificates (PEM) trusted for simplestreams servers, besides the system's. */
  get extraCa(): string | undefined {
    return this.options.extraCa;
  }

  /** An LXD remote, for what only LXD servers do: receive copies and uploads, export, launch. */
  lxd(name: string): LxdConnection {
    const connection = this.connection(name);
    if (!(connection instanceof LxdConnection))
      throw new HangarError(
        'invalid-input',
        `${name} is a simplestreams image server: it only serves images. Choose an LXD server.`,
      );
    return connection;
  }

  async connectAll(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.connect()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.close()));
  }
}
