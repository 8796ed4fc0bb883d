/**
 * The JSON of a static simplestreams tree, as LXD 5.0.2's reader takes it
 * (shared/simplestreams/products.go ToLXD): one product per
 * os:release:arch:variant, one version per image keyed by its serial, and
 * the image's files as items whose combined hash is the image's fingerprint.
 * Pure: no I/O.
 */
import type { LxdImage } from '../../shared/lxd.js';

export const INDEX_FILE = 'streams/v1/index.json';
export const PRODUCTS_FILE = 'streams/v1/images.json';

export type JsonObject = Record<string, unknown>;

/** LXD's architecture → the simplestreams (Debian) name its reader maps back. */
const STREAMS_ARCH: Record<string, string> = {
  i686: 'i386',
  x86_64: 'amd64',
  armv6l: 'armel',
  armv7l: 'armhf',
  aarch64: 'arm64',
  ppc: 'powerpc',
  ppc64: 'powerpc64',
  ppc64le: 'ppc64el',
  s390x: 's390x',
  mips: 'mipsel',
  mips64: 'mips64el',
  riscv32: 'riscv32',
  riscv64: 'riscv64',
};

export function streamsArchitecture(architecture: string): string | undefined {
  return STREAMS_ARCH[architecture];
}

/** What a product and version are made of, from the image's properties. */
export interface ProductPlan {
  key: string;
  os: string;
  release: string;
  arch: string;
  variant: string;
  version: string;
  releaseTitle: string;
  requirements: Record<string, string>;
  aliases: string[];
  /** The serial before it is made unique within the product. */
  serial: string;
}

const pad = (value: number) => String(value).padStart(2, '0');

/** `YYYYMMDD_HHMM` (UTC) from a date LXD gives; undefined for Go's zero times. */
export function serialOf(date: string): string | undefined {
  const time = new Date(date);
  if (Number.isNaN(time.getTime()) || time.getUTCFullYear() < 1971) return undefined;
  return `${time.getUTCFullYear()}${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())}_${pad(time.getUTCHours())}${pad(time.getUTCMinutes())}`;
}

/** A `serial` property is kept when LXD's reader can date it (its first 8 characters). */
function usableSerial(serial: string | undefined): string | undefined {
  if (serial === undefined || !/^\d{8}/.test(serial)) return undefined;
  const date = `${serial.slice(0, 4)}-${serial.slice(4, 6)}-${serial.slice(6, 8)}T00:00:00Z`;
  const parsed = new Date(date);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date.slice(0, 10))
    ? serial
    : undefined;
}

/** Product aliases are one comma-separated string: a name with a comma cannot be one. */
const aliasFits = (name: string) => !name.includes(',') && name.trim() === name && name !== '';

export function planProduct(image: LxdImage): ProductPlan | { refused: string } {
  const arch = streamsArchitecture(image.architecture);
  if (arch === undefined)
    return {
      refused: `its architecture "${image.architecture}" has no simplestreams name LXD reads`,
    };
  const p = image.properties;
  const value = (key: string, fallback: string) => {
    const found = (p[key] ?? '').trim();
    return found === '' ? fallback : found;
  };
  const os = value('os', 'unknown');
  const release = value('release', 'unknown');
  const variant = value('variant', 'default');
  const version = value('version', '');
  const serial =
    usableSerial(p.serial) ??
    serialOf(image.created_at) ??
    serialOf(image.uploaded_at) ??
    serialOf(new Date().toISOString()) ??
    '19700101_0000';
  const requirements: Record<string, string> = {};
  for (const [key, val] of Object.entries(p))
    if (key.startsWith('requirements.') && val !== '')
      requirements[key.slice('requirements.'.length)] = val;
  return {
    key: `${os}:${release}:${arch}:${variant}`,
    os,
    release,
    arch,
    variant,
    version,
    releaseTitle: version !== '' ? version : release,
    requirements,
    aliases: image.aliases.map((alias) => alias.name).filter(aliasFits),
    serial,
  };
}

/** A path segment from a property: nothing that leads elsewhere or needs quoting. */
export function segment(value: string): string {
  // No separators, and no leading dot: nothing hidden, never `.` or `..`.
  const safe = value.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_');
  return safe === '' ? '_' : safe;
}

export function objectAt(parent: JsonObject, key: string): JsonObject {
  const found = parent[key];
  if (typeof found === 'object' && found !== null && !Array.isArray(found))
    return found as JsonObject;
  const created: JsonObject = {};
  parent[key] = created;
  return created;
}

const FINGERPRINT_FIELDS = [
  'combined_sha256',
  'combined_rootxz_sha256',
  'combined_squashfs_sha256',
  'combined_disk-kvm-img_sha256',
  'combined_disk1-img_sha256',
  'combined_uefi1-img_sha256',
];

/** Fingerprints the tree already serves: a unified file's sha256, or a combined hash. */
export function servedFingerprints(products: JsonObject): Set<string> {
  const found = new Set<string>();
  for (const product of Object.values(products)) {
    if (typeof product !== 'object' || product === null) continue;
    const versions = (product as JsonObject).versions;
    if (typeof versions !== 'object' || versions === null) continue;
    for (const version of Object.values(versions as JsonObject)) {
      const items = (version as JsonObject | null)?.items;
      if (typeof items !== 'object' || items === null) continue;
      for (const item of Object.values(items as JsonObject)) {
        if (typeof item !== 'object' || item === null) continue;
        const fields = item as JsonObject;
        if (fields.ftype === 'lxd_combined.tar.gz' && typeof fields.sha256 === 'string')
          found.add(fields.sha256);
        for (const key of FINGERPRINT_FIELDS)
          if (typeof fields[key] === 'string' && fields[key] !== '') found.add(fields[key]);
      }
    }
  }
  return found;
}

/** The serial, made unique within the product (`_2`, `_3`… after a taken one). */
export function freeSerial(product: JsonObject, serial: string): string {
  const versions = objectAt(product, 'versions');
  let candidate = serial;
  for (let n = 2; candidate in versions; n++) candidate = `${serial}_${n}`;
  return candidate;
}

/**
 * Adds a version to its product (created when new) and moves the image's
 * aliases onto this product: LXD gives a product's aliases to its newest
 * version, and a name claimed by two products would go to either.
 */
export function addVersion(
  products: JsonObject,
  plan: ProductPlan,
  serial: string,
  items: JsonObject,
): void {
  const moving = new Set(plan.aliases);
  for (const [key, value] of Object.entries(products)) {
    if (key === plan.key || typeof value !== 'object' || value === null) continue;
    const other = value as JsonObject;
    if (typeof other.aliases !== 'string') continue;
    const kept = other.aliases.split(',').filter((name) => name !== '' && !moving.has(name));
    if (kept.length === 0) delete other.aliases;
    else other.aliases = kept.join(',');
  }
  const product = objectAt(products, plan.key);
  const existing = typeof product.aliases === 'string' ? product.aliases.split(',') : [];
  const aliases = [...new Set([...existing.filter((name) => name !== ''), ...plan.aliases])];
  Object.assign(product, {
    arch: plan.arch,
    os: plan.os,
    release: plan.release,
    release_title: plan.releaseTitle,
    variant: plan.variant,
  });
  if (aliases.length > 0) product.aliases = aliases.join(',');
  if (plan.version !== '') product.version = plan.version;
  if (Object.keys(plan.requirements).length > 0) product.lxd_requirements = plan.requirements;
  objectAt(product, 'versions')[serial] = { items };
}

export function productsDocument(products: JsonObject, updated: string): JsonObject {
  return {
    content_id: 'images',
    datatype: 'image-downloads',
    format: 'products:1.0',
    updated,
    products,
  };
}

/** The index keeps entries it did not write; its `images` entry lists every product. */
export function indexDocument(
  existing: JsonObject | undefined,
  products: JsonObject,
  updated: string,
): JsonObject {
  const index = { ...(existing === undefined ? {} : objectAt(existing, 'index')) };
  index.images = {
    datatype: 'image-downloads',
    path: PRODUCTS_FILE,
    format: 'products:1.0',
    updated,
    products: Object.keys(products).sort(),
  };
  return { format: 'index:1.0', updated, index };
}
