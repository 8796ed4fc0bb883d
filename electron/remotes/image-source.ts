import type { RemoteStatus } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { AliasEntry } from '../../shared/images/changes.js';
import type { LxdImage } from '../../shared/lxd.js';

/** What the image screens read from any remote, LXD or simplestreams. */
export interface ImageSource {
  listImages: (project: string | undefined) => Promise<LxdImage[]>;
  /** By full fingerprint or a unique prefix, as lxc accepts. */
  getImage: (fingerprint: string, project: string | undefined) => Promise<LxdImage>;
  listAliases: (project: string | undefined) => Promise<AliasEntry[]>;
  listProjects: () => Promise<string[]>;
}

/** Where a target LXD pulls an image from: `source` of `POST /1.0/images` or `/1.0/instances`. */
export interface PullSource {
  server: string;
  protocol: 'lxd' | 'simplestreams';
  /** PEM of the source server's certificate; empty for a server with a public CA. */
  certificate: string;
  /** A one-time secret for a private image on an LXD source. */
  secret?: string;
}

/** A remote's live side: status, connection, and its images. */
export interface RemoteConnection extends ImageSource {
  readonly remote: string;
  readonly status: RemoteStatus;
  connect: () => Promise<void>;
  /**
   * The events stream that reports this remote's image changes, while it is unbroken (another
   * object after a reconnection); undefined when none is followed. Absent: the remote sends none.
   */
  watching?: () => object | undefined;
  /**
   * How another LXD server can pull `image` from this remote; undefined when
   * it cannot, because this remote does not listen on the network.
   */
  pullSource: (image: LxdImage, project: string | undefined) => Promise<PullSource | undefined>;
  close: () => Promise<void>;
}

/** The `source` LXD needs to pull `image` from another server (POST /1.0/images or /1.0/instances). */
export function pullSourceBody(
  pull: PullSource,
  image: { fingerprint: string; type: string },
  sourceProject: string | undefined,
): Record<string, unknown> {
  return {
    type: 'image',
    mode: 'pull',
    server: pull.server,
    protocol: pull.protocol,
    certificate: pull.certificate,
    fingerprint: image.fingerprint,
    image_type: image.type,
    ...(pull.secret === undefined ? {} : { secret: pull.secret }),
    ...(pull.protocol === 'lxd' ? { project: sourceProject ?? 'default' } : {}),
  };
}

/** Why another server cannot pull from `remote`, and the fix. */
export function notOnNetwork(remote: string, action: string): HangarError {
  return new HangarError(
    'invalid-input',
    `${remote} does not listen on the network, so another server cannot pull images from it to ${action}. On ${remote}, run: lxc config set core.https_address :8443`,
  );
}
