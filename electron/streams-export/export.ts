/**
 * "Export as simplestreams": the selected images, exactly as LXD stores
 * them, written as a static simplestreams tree any web server can serve
 * (`lxc remote add <name> https://… --protocol simplestreams`). A file
 * already in the tree is never rewritten: a re-export adds versions and
 * rewrites only streams/v1/index.json and images.json (atomically).
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdir, readFile, rename, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CallInput, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { simplestreamsCommand } from '../../shared/sharing.js';
import type { OperationContext, Operations } from '../operations/registry.js';
import { readExportParts } from '../images/export.js';
import { PartialFile } from '../images/partial-file.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import {
  INDEX_FILE,
  PRODUCTS_FILE,
  addVersion,
  freeSerial,
  indexDocument,
  objectAt,
  planProduct,
  productsDocument,
  segment,
  servedFingerprints,
  type JsonObject,
  type ProductPlan,
} from './tree.js';

type Format = 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'lzma' | 'tar' | 'squashfs' | 'qcow2';

/** The format of a file from its first bytes, as LXD tells them (DetectCompression). */
export function detectFormat(head: Buffer): Format | undefined {
  const starts = (...bytes: number[]) => bytes.every((byte, i) => head[i] === byte);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  if (starts(0x5d, 0x00, 0x00)) return 'lzma';
  if (starts(0x68, 0x73, 0x71, 0x73)) return 'squashfs';
  if (starts(0x51, 0x46, 0x49, 0xfb)) return 'qcow2';
  if (head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}

const TAR_SUFFIX: Partial<Record<Format, string>> = {
  gzip: 'tar.gz',
  xz: 'tar.xz',
  zstd: 'tar.zst',
  bzip2: 'tar.bz2',
  lzma: 'tar.lzma',
  tar: 'tar',
};

interface Placed {
  /** The item's key and ftype in the version. */
  ftype: string;
  /** File name in the version's folder. */
  name: string;
}

/**
 * LXD's reader knows a unified image only as `lxd_combined.tar.gz`, a split
 * one's metadata only as `lxd.tar.xz`, and a rootfs as `root.tar.xz`,
 * `squashfs` or `disk-kvm.img`. The ftype is a label: LXD checks each
 * file's sha256 and the combined hash, then unpacks by content, so the
 * stored bytes are kept (recompressing would change the fingerprint) and the
 * file's name tells its real format.
 */
function place(role: 'unified' | 'metadata' | 'rootfs', format: Format | undefined): Placed {
  const tarSuffix = format && TAR_SUFFIX[format];
  if (role === 'unified' && tarSuffix !== undefined)
    return { ftype: 'lxd_combined.tar.gz', name: `lxd_combined.${tarSuffix}` };
  if (role === 'metadata' && tarSuffix !== undefined)
    return { ftype: 'lxd.tar.xz', name: `lxd.${tarSuffix}` };
  if (role === 'rootfs') {
    if (format === 'squashfs') return { ftype: 'squashfs', name: 'root.squashfs' };
    if (format === 'qcow2') return { ftype: 'disk-kvm.img', name: 'disk-kvm.img' };
    if (tarSuffix !== undefined) return { ftype: 'root.tar.xz', name: `root.${tarSuffix}` };
  }
  throw new HangarError(
    'invalid-input',
    `The image's ${role === 'unified' ? 'file' : role} is ${format ?? 'in a format Hangar cannot tell'}, which LXD's simplestreams reader does not take as ${role === 'rootfs' ? 'a rootfs (a tarball, squashfs or a qcow2 disk)' : 'a tarball'}. Nothing was written for it.`,
  );
}

const HEAD_BYTES = 512;

/** One exported file: a hidden partial name until the image's fingerprint is checked. */
class TreeFile extends PartialFile {
  readonly hash: Hash = createHash('sha256');
  size = 0;
  private head = Buffer.alloc(0);

  constructor(
    private readonly folder: string,
    readonly role: 'unified' | 'metadata' | 'rootfs',
    combined: Hash,
    onBytes: (count: number) => void,
  ) {
    super(join(folder, `.${role}.hangar-partial`), (chunk) => {
      if (this.head.length < HEAD_BYTES)
        this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
      this.hash.update(chunk);
      combined.update(chunk);
      this.size += chunk.length;
      onBytes(chunk.length);
    });
  }

  placement(): Placed {
    return place(this.role, detectFormat(this.head));
  }

  /** Under `name` in the image's folder; an existing file is never replaced. */
  override commit(name: string): Promise<void> {
    return super.commit(join(this.folder, name));
  }
}

async function readJson(path: string): Promise<JsonObject | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as JsonObject;
  } catch {
    // Said below.
  }
  throw new HangarError(
    'invalid-input',
    `${path} is not a simplestreams file Hangar can add to. Choose an empty folder or a tree Hangar wrote.`,
  );
}

/** Writes a JSON file through a temporary name: readers see the old file or the new one. */
async function replaceJson(path: string, value: JsonObject): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.hangar-partial`;
  await writeFile(partial, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
  await rename(partial, path);
}

interface ImageFiles {
  items: JsonObject;
}

/** Streams one image's export into `folder` and returns its version's items. */
async function writeImage(
  remotes: RemoteRegistry,
  input: CallInput<'images.exportSimplestreams'>,
  image: LxdImage,
  folder: string,
  relative: string,
  context: OperationContext,
  onBytes: (count: number) => void,
): Promise<ImageFiles> {
  const { signal } = context;
  return remotes.lxd(input.remote).withClient(async (client) => {
    const response = await client.download(`/1.0/images/${image.fingerprint}/export`, {
      project: input.project,
      signal,
    });
    const combined = createHash('sha256');
    const files: TreeFile[] = [];
    const open = (role: TreeFile['role']) => {
      const file = new TreeFile(folder, role, combined, onBytes);
      files.push(file);
      return file;
    };
    try {
      await readExportParts(response, ({ role }) => open(role));
      const fingerprint = combined.digest('hex');
      if (fingerprint !== image.fingerprint)
        throw new HangarError(
          'lxd-error',
          `The exported files of ${image.fingerprint} do not match it: their fingerprint is ${fingerprint}.`,
        );
      const roles = files.map((file) => file.role).join(',');
      if (roles !== 'unified' && roles !== 'metadata,rootfs')
        throw new HangarError('lxd-error', `LXD exported ${image.fingerprint} as parts ${roles}.`);
      if (image.type === 'virtual-machine' && roles === 'unified')
        throw new HangarError(
          'invalid-input',
          `${image.fingerprint} is a unified virtual-machine image: LXD's simplestreams reader takes virtual machines only as metadata and a disk.`,
        );
      const placed = files.map((file) => file.placement());
      const items: JsonObject = {};
      for (const [index, file] of files.entries()) {
        const { ftype, name } = placed[index] ?? { ftype: '', name: '' };
        await file.commit(name);
        items[ftype] = {
          ftype,
          path: `${relative}/${name}`,
          size: file.size,
          sha256: file.hash.digest('hex'),
        };
      }
      const metadata = items['lxd.tar.xz'] as JsonObject | undefined;
      const rootfs = placed[1]?.ftype;
      if (metadata !== undefined) {
        if (rootfs === 'root.tar.xz') {
          metadata.combined_sha256 = image.fingerprint;
          metadata.combined_rootxz_sha256 = image.fingerprint;
        } else if (rootfs === 'squashfs') metadata.combined_squashfs_sha256 = image.fingerprint;
        else metadata['combined_disk-kvm-img_sha256'] = image.fingerprint;
      }
      return { items };
    } catch (error) {
      response.body.on('error', () => undefined);
      response.body.destroy();
      await Promise.all(files.map((file) => file.discard()));
      if (signal.aborted) throw new HangarError('cancelled', 'The export was cancelled.');
      throw client.transferFailure(error);
    }
  });
}

async function run(
  remotes: RemoteRegistry,
  input: CallInput<'images.exportSimplestreams'>,
  context: OperationContext,
) {
  const folder = await stat(input.directory).catch(() => undefined);
  if (folder?.isDirectory() !== true)
    throw new HangarError('invalid-input', `${input.directory} is not a folder.`);
  const connection = remotes.lxd(input.remote);
  const images: LxdImage[] = [];
  for (const fingerprint of input.fingerprints)
    images.push(await connection.getImage(fingerprint, input.project));
  // Refusals come first: nothing is written for a set that cannot be exported whole.
  const plans = new Map<string, ProductPlan>();
  for (const image of images) {
    const plan = planProduct(image);
    if ('refused' in plan)
      throw new HangarError(
        'invalid-input',
        `${image.fingerprint.slice(0, 12)} cannot be exported as simplestreams: ${plan.refused}.`,
      );
    plans.set(image.fingerprint, plan);
  }
  const indexPath = join(input.directory, INDEX_FILE);
  const productsPath = join(input.directory, PRODUCTS_FILE);
  const index = await readJson(indexPath);
  const existing = await readJson(productsPath);
  const products = existing === undefined ? {} : objectAt(existing, 'products');
  const served = servedFingerprints(products);
  const total = images.reduce((sum, image) => sum + image.size, 0);
  let processed = 0;
  const onBytes = (count: number) => {
    processed += count;
    context.progress({
      stage: 'Exporting',
      processed,
      total,
      percent: total > 0 ? Math.min(100, (100 * processed) / total) : undefined,
    });
  };
  let added = 0;
  for (const image of images) {
    const plan = plans.get(image.fingerprint);
    if (plan === undefined || served.has(image.fingerprint)) continue;
    const serial = freeSerial(objectAt(products, plan.key), plan.serial);
    const relative = [
      'images',
      segment(plan.os),
      segment(plan.release),
      segment(plan.arch),
      segment(plan.variant),
      segment(serial),
    ].join('/');
    const target = join(input.directory, ...relative.split('/'));
    // A version's folder is Hangar's own: one that exists holds files not to touch.
    if ((await stat(target).catch(() => undefined)) !== undefined)
      throw new HangarError(
        'conflict',
        `${target} already exists and is not in ${PRODUCTS_FILE}: Hangar does not overwrite files. Move it away or choose another folder.`,
      );
    await mkdir(target, { recursive: true });
    try {
      const { items } = await writeImage(remotes, input, image, target, relative, context, onBytes);
      addVersion(products, plan, serial, items);
      const updated = new Date().toUTCString();
      await replaceJson(productsPath, productsDocument(products, updated));
      await replaceJson(indexPath, indexDocument(index, products, updated));
      served.add(image.fingerprint);
      added++;
    } catch (error) {
      await rmdir(target).catch(() => undefined);
      throw error;
    }
  }
  return { added, skipped: images.length - added };
}

export function exportSimplestreams(
  remotes: RemoteRegistry,
  operations: Operations,
  input: CallInput<'images.exportSimplestreams'>,
): OperationSummary {
  remotes.lxd(input.remote);
  const count = input.fingerprints.length;
  return operations.start(
    {
      kind: 'export',
      title: `Export ${count === 1 ? '1 image' : `${count} images`} from ${input.remote} as simplestreams to ${input.directory}`,
      command: simplestreamsCommand(input),
    },
    async (context) => {
      const { added, skipped } = await run(remotes, input, context);
      const images = (n: number) => (n === 1 ? '1 image' : `${n} images`);
      return {
        remote: input.remote,
        project: input.project ?? 'default',
        files: [join(input.directory, INDEX_FILE), join(input.directory, PRODUCTS_FILE)],
        message:
          skipped === 0
            ? `${images(added)} added to the tree`
            : `${images(added)} added, ${images(skipped)} already in the tree`,
      };
    },
  );
}
