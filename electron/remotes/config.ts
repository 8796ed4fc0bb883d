/**
 * The remotes Hangar keeps, in `remotes.json` under its data directory, with
 * pinned server certificates in `servercerts/<name>.crt` as lxc keeps them.
 * Built-in remotes match the `lxc remote list` of a fresh LXD 5.0 client.
 */
import { rename as renameFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { RemoteProtocol } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { remoteNameProblem } from '../../shared/remote-name.js';
import { readOptionalFile, writePrivateFile } from '../private-files.js';

export interface RemoteEntry {
  addr: string;
  protocol: RemoteProtocol;
  public: boolean;
}

/** lxc's static remotes: always there, never saved, not removable. */
export const STATIC_REMOTES: Readonly<Record<string, RemoteEntry>> = {
  local: { addr: 'unix://', protocol: 'lxd', public: false },
  ubuntu: {
    addr: 'https://cloud-images.ubuntu.com/releases',
    protocol: 'simplestreams',
    public: true,
  },
  'ubuntu-daily': {
    addr: 'https://cloud-images.ubuntu.com/daily',
    protocol: 'simplestreams',
    public: true,
  },
};

/** What a first run starts with besides the static remotes (lxc's default `images`). */
const DEFAULT_REMOTES: Record<string, RemoteEntry> = {
  images: { addr: 'https://images.linuxcontainers.org', protocol: 'simplestreams', public: true },
};

const fileSchema = z.object({
  version: z.literal(1),
  defaultRemote: z.string(),
  remotes: z.record(
    z.string(),
    z.object({
      addr: z.string(),
      protocol: z.enum(['lxd', 'simplestreams']),
      public: z.boolean(),
    }),
  ),
  /** Set once the user answered the offer to import lxc's remotes. */
  lxcImport: z.enum(['imported', 'dismissed']).optional(),
});
type RemotesFile = z.infer<typeof fileSchema>;

function assertUsableName(name: string): void {
  const problem = remoteNameProblem(name);
  if (problem !== undefined)
    throw new HangarError('invalid-input', `"${name}" cannot be a remote's name: ${problem}.`);
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => name !== key));
}

export class RemotesConfig {
  private data: RemotesFile;
  /** True when there was no remotes.json: the first run. */
  readonly firstRun: boolean;

  private constructor(
    private readonly dataDir: string,
    data: RemotesFile | undefined,
  ) {
    this.firstRun = data === undefined;
    this.data = data ?? { version: 1, defaultRemote: 'local', remotes: { ...DEFAULT_REMOTES } };
  }

  static async load(dataDir: string): Promise<RemotesConfig> {
    const path = join(dataDir, 'remotes.json');
    const text = await readOptionalFile(path);
    if (text === undefined) return new RemotesConfig(dataDir, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const result = fileSchema.safeParse(parsed);
    if (!result.success) {
      // Keep the user's file for them to recover; start from the defaults.
      const aside = `${path}.broken-${Date.now()}`;
      await renameFile(path, aside);
      console.error(`Hangar: ${path} was unreadable; moved it to ${aside}.`);
      return new RemotesConfig(dataDir, undefined);
    }
    return new RemotesConfig(dataDir, result.data);
  }

  get defaultRemote(): string {
    return this.has(this.data.defaultRemote) ? this.data.defaultRemote : 'local';
  }

  get lxcImport(): RemotesFile['lxcImport'] {
    return this.data.lxcImport;
  }

  entries(): [string, RemoteEntry][] {
    return [...Object.entries(STATIC_REMOTES), ...Object.entries(this.data.remotes)];
  }

  has(name: string): boolean {
    return name in STATIC_REMOTES || name in this.data.remotes;
  }

  isStatic(name: string): boolean {
    return name in STATIC_REMOTES;
  }

  /**
   * servercerts/<name>.crt, for a name that is a file name (shared/remote-name.ts): whatever
   * wrote remotes.json, no path outside the data directory is ever formed from a name.
   */
  serverCertPath(name: string): string {
    assertUsableName(name);
    return join(this.dataDir, 'servercerts', `${name}.crt`);
  }

  async serverCert(name: string): Promise<string | undefined> {
    return (await readOptionalFile(this.serverCertPath(name)))?.toString('utf8');
  }

  private mutable(name: string, verb: string): RemoteEntry {
    if (this.isStatic(name))
      throw new HangarError('invalid-input', `"${name}" is built in and cannot be ${verb}.`);
    const entry = this.data.remotes[name];
    if (entry === undefined)
      throw new HangarError('unknown-remote', `There is no remote named "${name}".`);
    return entry;
  }

  private assertFree(name: string): void {
    if (this.has(name))
      throw new HangarError('conflict', `A remote named "${name}" already exists.`);
  }

  async add(name: string, entry: RemoteEntry, serverCert?: string): Promise<void> {
    assertUsableName(name);
    this.assertFree(name);
    if (serverCert !== undefined) await writePrivateFile(this.serverCertPath(name), serverCert);
    this.data.remotes[name] = entry;
    await this.save();
  }

  async remove(name: string): Promise<void> {
    this.mutable(name, 'removed');
    this.data.remotes = without(this.data.remotes, name);
    if (this.data.defaultRemote === name) this.data.defaultRemote = 'local';
    await this.save();
    if (remoteNameProblem(name) === undefined) await rm(this.serverCertPath(name), { force: true });
  }

  async rename(name: string, newName: string): Promise<void> {
    const entry = this.mutable(name, 'renamed');
    assertUsableName(newName);
    this.assertFree(newName);
    // A name from an older remotes.json that is not a file name has no certificate of Hangar's.
    const oldNameUsable = remoteNameProblem(name) === undefined;
    const cert = oldNameUsable ? await this.serverCert(name) : undefined;
    if (cert !== undefined) await writePrivateFile(this.serverCertPath(newName), cert);
    this.data.remotes = { ...without(this.data.remotes, name), [newName]: entry };
    if (this.data.defaultRemote === name) this.data.defaultRemote = newName;
    await this.save();
    if (oldNameUsable) await rm(this.serverCertPath(name), { force: true });
  }

  async setDefault(name: string): Promise<void> {
    if (!this.has(name))
      throw new HangarError('unknown-remote', `There is no remote named "${name}".`);
    this.data.defaultRemote = name;
    await this.save();
  }

  async pinCertificate(name: string, serverCert: string): Promise<void> {
    this.mutable(name, 'changed');
    await writePrivateFile(this.serverCertPath(name), serverCert);
  }

  async setLxcImport(answer: 'imported' | 'dismissed'): Promise<void> {
    this.data.lxcImport = answer;
    await this.save();
  }

  /** Writes the current state, so a first run is remembered even before any change. */
  async save(): Promise<void> {
    await writePrivateFile(
      join(this.dataDir, 'remotes.json'),
      `${JSON.stringify(this.data, null, 2)}\n`,
    );
  }
}
