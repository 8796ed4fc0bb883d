/**
 * Reads the `lxc` client's configuration to offer its remotes on first run.
 * Read only: nothing under lxc's config directory is ever written.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import type { RemoteProtocol } from '../../shared/contract.js';
import { remoteNameProblem } from '../../shared/remote-name.js';
import { readOptionalFile } from '../private-files.js';

/** Where lxc keeps its config: $LXD_CONF, ~/.config/lxc, or the snap's. */
export function lxcConfigDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.LXD_CONF !== undefined && env.LXD_CONF !== '') return env.LXD_CONF;
  const home = env.HOME ?? homedir();
  return [join(home, '.config', 'lxc'), join(home, 'snap', 'lxd', 'common', 'config')].find((dir) =>
    existsSync(join(dir, 'config.yml')),
  );
}

export interface LxcRemote {
  name: string;
  addr: string;
  protocol: RemoteProtocol;
  public: boolean;
  /** Why Hangar cannot take it (an auth type it does not speak…). */
  unsupported?: string;
  serverCert?: string;
}

export interface LxcConfig {
  dir: string;
  defaultRemote: string | undefined;
  remotes: LxcRemote[];
  clientCertificate?: { certificate: string; key: string };
}

export async function readLxcConfig(dir: string): Promise<LxcConfig | undefined> {
  const text = await readOptionalFile(join(dir, 'config.yml'));
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = parseYaml(text.toString('utf8'));
  } catch {
    return undefined;
  }
  const root = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const rawRemotes = (root.remotes ?? {}) as Record<string, Record<string, unknown> | null>;
  const remotes: LxcRemote[] = [];
  for (const [name, raw] of Object.entries(rawRemotes)) {
    // lxc takes names Hangar cannot keep as a file name (servercerts/<name>.crt): such a remote is
    // offered with the reason and never read or written under a path made from its name.
    const nameProblem = remoteNameProblem(name);
    const addr = typeof raw?.addr === 'string' ? raw.addr : '';
    const protocol =
      typeof raw?.protocol === 'string' && raw.protocol !== '' ? raw.protocol : 'lxd';
    const authType = typeof raw?.auth_type === 'string' ? raw.auth_type : 'tls';
    const isPublic = raw?.public === true;
    const remote: LxcRemote = {
      name,
      addr,
      protocol: protocol === 'simplestreams' ? 'simplestreams' : 'lxd',
      public: isPublic,
    };
    if (nameProblem !== undefined) remote.unsupported = `its name is refused: ${nameProblem}`;
    else if (protocol !== 'lxd' && protocol !== 'simplestreams')
      remote.unsupported = `protocol ${protocol} is not supported`;
    else if (addr.startsWith('unix:'))
      remote.unsupported = 'a unix socket remote (Hangar has local)';
    else if (protocol === 'lxd' && !isPublic && authType !== 'tls')
      remote.unsupported = `authentication ${authType} is not supported (only TLS client certificates)`;
    if (protocol === 'lxd' && nameProblem === undefined) {
      const cert = await readOptionalFile(join(dir, 'servercerts', `${name}.crt`));
      if (cert !== undefined) remote.serverCert = cert.toString('utf8');
      else remote.unsupported ??= `no pinned certificate in servercerts/${name}.crt`;
    }
    remotes.push(remote);
  }
  const [certificate, key] = await Promise.all([
    readOptionalFile(join(dir, 'client.crt')),
    readOptionalFile(join(dir, 'client.key')),
  ]);
  return {
    dir,
    defaultRemote: typeof root['default-remote'] === 'string' ? root['default-remote'] : undefined,
    remotes: remotes.sort((a, b) => a.name.localeCompare(b.name)),
    ...(certificate !== undefined && key !== undefined
      ? {
          clientCertificate: {
            certificate: certificate.toString('utf8'),
            key: key.toString('utf8'),
          },
        }
      : {}),
  };
}
