/**
 * "Share…": what others run to use a server's public images. LXD serves
 * public images to anyone who adds it with `lxc remote add <name> <address>
 * --public`, once its API listens on the network (core.https_address).
 */
import { hostname, networkInterfaces } from 'node:os';
import type { ShareCommand, ShareInfo } from '../../shared/sharing.js';
import type { RemoteRegistry } from '../remotes/registry.js';

interface ServerInfo {
  config?: Record<string, unknown>;
  environment?: { addresses?: string[] };
}

const DEFAULT_PORT = 8443;

/** host:port as lxc remote add takes it (IPv6 in brackets). */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** This machine's network addresses: where a local daemon will listen once exposed. */
function localAddresses(): string[] {
  const found: string[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const entry of list ?? [])
      if (!entry.internal && !(entry.family === 'IPv6' && entry.address.startsWith('fe80:')))
        found.push(hostPort(entry.address, DEFAULT_PORT));
  return found;
}

/** A remote name for others to use: letters, digits, `-`, from the host or the remote. */
function suggestedName(remote: string, local: boolean): string {
  const base = (local ? hostname() : remote).toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  const trimmed = base.replace(/^-+|-+$/g, '');
  return trimmed === '' ? 'images' : trimmed.slice(0, 32);
}

export function shareCommands(input: {
  remote: string;
  local: boolean;
  remoteAddr: string;
  httpsAddress: string;
  addresses: string[];
}): ShareCommand[] {
  const name = suggestedName(input.remote, input.local);
  const commands: ShareCommand[] = [];
  let addresses = input.addresses;
  if (input.httpsAddress === '') {
    commands.push({
      title: `Expose the API on the network (port ${DEFAULT_PORT}, every address)`,
      text: input.local
        ? `lxc config set core.https_address :${DEFAULT_PORT}`
        : `lxc config set ${input.remote}: core.https_address :${DEFAULT_PORT}`,
      where: 'server',
    });
    addresses = input.local ? localAddresses() : [];
  }
  if (addresses.length === 0 && !input.local && input.remoteAddr.startsWith('https://'))
    addresses = [input.remoteAddr.slice('https://'.length)];
  if (addresses.length === 0) addresses = [hostPort('<server address>', DEFAULT_PORT)];
  for (const address of addresses)
    commands.push({
      title: `Add this server (public images only) from ${address}`,
      text: `lxc remote add ${name} https://${address} --public`,
      where: 'client',
    });
  commands.push({
    title: 'List and use its public images',
    text: `lxc image list ${name}:\nlxc launch ${name}:<alias> c1`,
    where: 'client',
  });
  return commands;
}

export async function shareInfo(remotes: RemoteRegistry, remote: string): Promise<ShareInfo> {
  const summary = remotes.list().find(({ name }) => name === remote);
  const info = await remotes.lxd(remote).withClient((client) => client.get<ServerInfo>('/1.0'));
  const configured = info.config?.['core.https_address'];
  const httpsAddress = typeof configured === 'string' ? configured : '';
  const addresses = (info.environment?.addresses ?? []).filter(
    (address): address is string => typeof address === 'string',
  );
  const remoteAddr = summary?.addr ?? '';
  // A remote reached over HTTPS listens on the network even when its config is not shown.
  const exposed = httpsAddress !== '' || remoteAddr.startsWith('https://');
  return {
    addresses,
    httpsAddress,
    commands: shareCommands({
      remote,
      local: remoteAddr.startsWith('unix:'),
      remoteAddr,
      httpsAddress: exposed && httpsAddress === '' ? remoteAddr : httpsAddress,
      addresses,
    }),
  };
}
