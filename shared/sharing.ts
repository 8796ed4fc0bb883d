import { exportCommand } from './lxc-command.js';

/** What others run to use a server's public images (remotes.shareInfo). */
export interface ShareCommand {
  /** What the command does, in a few words. */
  title: string;
  /** The command line (or config snippet) to copy. */
  text: string;
  /** Where to run it: on the server, on another machine, or the web server's config. */
  where: 'server' | 'client' | 'web-server';
}

export interface ShareInfo {
  /** environment.addresses: where the API listens now (empty when it is not exposed). */
  addresses: string[];
  /** config core.https_address; empty when the API is not exposed on the network. */
  httpsAddress: string;
  commands: ShareCommand[];
}

/**
 * There is no lxc command for a simplestreams tree: the closest is exporting
 * each image's files (Hangar then lays them out and writes streams/v1).
 */
export function simplestreamsCommand(input: {
  remote: string;
  project?: string | undefined;
  fingerprints: string[];
  directory: string;
}): string {
  return input.fingerprints
    .map((fingerprint) => exportCommand({ ...input, fingerprint }))
    .join(' && ');
}

/** What others run to use a simplestreams tree served at `url`. */
export function simplestreamsRemoteCommand(url: string, name = 'myimages'): string {
  return `lxc remote add ${name} ${url} --protocol simplestreams --public`;
}

/**
 * `lxc image import <url>` (LXD 5.0 and 5.21; removed in 6.9): LXD sends a
 * HEAD to the URL with LXD-Server-Architectures and LXD-Server-Version and
 * downloads what the answer's LXD-Image-URL names, checking LXD-Image-Hash.
 * LXD takes one file there: a unified image. This serves the file itself
 * with both headers, from nginx's document root.
 */
export function nginxImportSnippet(input: {
  fingerprint: string;
  fileName: string;
  host: string;
}): string {
  const path = `/images/${input.fileName}`;
  return [
    `# /etc/nginx/sites-available/lxd-images (the file is in /srv/lxd-images/images/)`,
    `server {`,
    `    listen 443 ssl;`,
    `    server_name ${input.host};`,
    `    root /srv/lxd-images;`,
    `    location = ${path} {`,
    `        add_header LXD-Image-Hash ${input.fingerprint} always;`,
    `        add_header LXD-Image-URL https://${input.host}${path} always;`,
    `    }`,
    `}`,
    `# then, anywhere: lxc image import https://${input.host}${path} --alias <name>`,
  ].join('\n');
}
