import type { RemoteStatus } from '../../shared/contract.js';
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

/** A remote's live side: status, connection, and its images. */
export interface RemoteConnection extends ImageSource {
  readonly remote: string;
  readonly status: RemoteStatus;
  connect: () => Promise<void>;
  close: () => Promise<void>;
}
