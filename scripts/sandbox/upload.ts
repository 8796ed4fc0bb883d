/**
 * Loads an image into a sandbox daemon over its socket: the tarball as the
 * body (unified) or as multipart `metadata` + `rootfs` (split), the
 * operation awaited with `/wait`, then the aliases. Test infrastructure,
 * deliberately independent of Hangar's own client; and unlike
 * `lxc image import`, it does not hang when many imports run at once
 * (lxc 5.0.2 can miss its operation's end and wait forever).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Agent, FormData, request } from 'undici';

export interface UploadOptions {
  project?: string;
  public?: boolean;
  aliases?: { name: string; description: string }[];
}

interface Envelope {
  type: string;
  error: string;
  operation: string;
  metadata: { status_code?: number; err?: string; metadata?: { fingerprint?: string } } | null;
}

async function call(
  agent: Agent,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Envelope> {
  const response = await request(`http://lxd${path}`, {
    method: method as 'GET',
    dispatcher: agent,
    headers,
    body:
      body === undefined
        ? undefined
        : body instanceof FormData || Buffer.isBuffer(body)
          ? body
          : JSON.stringify(body),
  });
  const envelope = (await response.body.json()) as Envelope;
  if (envelope.type === 'error') throw new Error(`${method} ${path}: ${envelope.error}`);
  return envelope;
}

/** Uploads one image (one file: unified; two: metadata then rootfs) and returns its fingerprint. */
export async function uploadImage(
  socketPath: string,
  files: string[],
  options: UploadOptions = {},
): Promise<string> {
  const agent = new Agent({ connect: { socketPath } });
  const query =
    options.project === undefined ? '' : `?project=${encodeURIComponent(options.project)}`;
  try {
    // As lxc does: the image remembers the name of its (rootfs) file.
    const headers = {
      'x-lxd-public': options.public === true ? '1' : '0',
      'x-lxd-filename': basename(files.at(-1) ?? ''),
    };
    const [metadata, rootfs] = await Promise.all(files.map((file) => readFile(file)));
    if (metadata === undefined) throw new Error('no image file given');
    let body: Buffer | FormData = metadata;
    if (rootfs === undefined) {
      Object.assign(headers, { 'content-type': 'application/octet-stream' });
    } else {
      body = new FormData();
      body.append('metadata', new Blob([metadata]), basename(files[0] ?? ''));
      body.append('rootfs', new Blob([rootfs]), basename(files[1] ?? ''));
    }
    const started = await call(agent, 'POST', `/1.0/images${query}`, body, headers);
    const done = await call(agent, 'GET', `${started.operation}/wait?timeout=120`);
    if (done.metadata?.status_code !== 200)
      throw new Error(`image upload failed: ${done.metadata?.err ?? 'unknown error'}`);
    const fingerprint = done.metadata.metadata?.fingerprint;
    if (fingerprint === undefined) throw new Error('image upload returned no fingerprint');
    for (const alias of options.aliases ?? []) {
      await call(
        agent,
        'POST',
        `/1.0/images/aliases${query}`,
        { name: alias.name, target: fingerprint, description: alias.description },
        { 'content-type': 'application/json' },
      );
    }
    return fingerprint;
  } finally {
    await agent.close();
  }
}
