/**
 * A simplestreams catalog turned into what `lxc image list <remote>:` and
 * `lxc image alias list <remote>:` print, by the rules of LXD 5.0.2's own
 * client: shared/simplestreams/products.go (ToLXD), simplestreams.go
 * (getImages, applyAliases, ListAliases) and sort.go. Pure: no I/O.
 */
import { HangarError } from '../../shared/errors.js';
import type { AliasEntry } from '../../shared/images/changes.js';
import type { ImageType, LxdImage, LxdImageAlias } from '../../shared/lxd.js';
import { architectureName, architecturePersonalities } from './architectures.js';
import {
  ShapeError,
  type JsonObject,
  booleanField,
  integerField,
  member,
  objectValue,
  stringField,
  stringListField,
  stringMapField,
} from './json-shape.js';

export const INDEX_PATH = 'streams/v1/index.json';

export interface IndexEntry {
  /** The entry's key in the index, e.g. `images`. */
  name: string;
  datatype: string;
  /** Products file, relative to the server's base URL. */
  path: string;
  products: string[];
}

export interface ProductItem {
  ftype: string;
  path: string;
  size: number;
  sha256: string;
  combinedSha256: string;
  combinedRootxzSha256: string;
  combinedSquashfsSha256: string;
  combinedDiskKvmImgSha256: string;
  combinedDisk1ImgSha256: string;
  combinedUefi1ImgSha256: string;
}

export interface ProductVersion {
  /** The version's key: its serial, e.g. `20240601_05:24`. */
  serial: string;
  label: string;
  items: ProductItem[];
}

export interface Product {
  key: string;
  aliases: string;
  arch: string;
  os: string;
  release: string;
  releaseTitle: string;
  version: string;
  variant: string;
  supportEol: string;
  requirements: Map<string, string>;
  versions: ProductVersion[];
}

/** An alias as `lxc image alias list --format json` prints it. */
export interface CatalogAlias extends AliasEntry {
  type: ImageType;
}

export interface CatalogContent {
  /** In LXD's order: os, release, variant, newest serial first, architecture, preferred type. */
  images: LxdImage[];
  aliases: CatalogAlias[];
}

export interface CatalogOptions {
  /** The server's base URL; cloud-images.ubuntu.com drops the `ubuntu/` alias prefix. */
  url: string;
  /**
   * The machine's architecture as `uname -m` gives it: LXD's client gives
   * the short alias (`debian/12`) only to images of this architecture, and
   * prefers it when the same alias exists for several.
   */
  hostArchitecture: string;
}

function parseJson(text: string | Buffer, source: string): unknown {
  try {
    return JSON.parse(typeof text === 'string' ? text : text.toString('utf8')) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HangarError('lxd-error', `${source} is not valid JSON: ${reason}`, { cause: error });
  }
}

function shapeFailure(error: unknown, what: string, source: string): unknown {
  if (!(error instanceof ShapeError)) return error;
  return new HangarError(
    'lxd-error',
    `${source} is not a simplestreams ${what}: ${error.message}`,
    {
      cause: error,
    },
  );
}

/** Reads `streams/v1/index.json`; `source` names it in errors (its URL). */
export function parseIndex(text: string | Buffer, source: string): IndexEntry[] {
  const json = parseJson(text, source);
  try {
    const root = objectValue(json, () => 'the file');
    stringField(root, 'format', () => '');
    stringField(root, 'updated', () => '');
    const index = objectValue(root.index, () => 'index');
    return Object.entries(index).map(([name, value]) => {
      const at = () => member('index', name);
      const entry = objectValue(value, at);
      stringField(entry, 'updated', at);
      stringField(entry, 'format', at);
      return {
        name,
        datatype: stringField(entry, 'datatype', at),
        path: stringField(entry, 'path', at),
        products: stringListField(entry, 'products', at),
      };
    });
  } catch (error) {
    throw shapeFailure(error, 'index', source);
  }
}

/** The index entries LXD lists images from (getImages): image-downloads only. */
export function imageDownloadEntries(index: IndexEntry[]): IndexEntry[] {
  return index.filter((entry) => entry.datatype === 'image-downloads');
}

const ITEM_STRINGS = ['combined_uefi1-img_sha256', 'md5', 'delta_base'] as const;

function parseItem(value: unknown, at: () => string): ProductItem {
  const item = objectValue(value, at);
  for (const key of ITEM_STRINGS) stringField(item, key, at);
  return {
    ftype: stringField(item, 'ftype', at),
    path: stringField(item, 'path', at),
    size: integerField(item, 'size', at),
    sha256: stringField(item, 'sha256', at),
    combinedSha256: stringField(item, 'combined_sha256', at),
    combinedRootxzSha256: stringField(item, 'combined_rootxz_sha256', at),
    combinedSquashfsSha256: stringField(item, 'combined_squashfs_sha256', at),
    combinedDiskKvmImgSha256: stringField(item, 'combined_disk-kvm-img_sha256', at),
    combinedDisk1ImgSha256: stringField(item, 'combined_disk1-img_sha256', at),
    combinedUefi1ImgSha256: stringField(item, 'combined_uefi1-img_sha256', at),
  };
}

function parseVersion(serial: string, value: unknown, at: () => string): ProductVersion {
  const version = objectValue(value, at);
  stringField(version, 'pubname', at);
  const items = objectValue(version.items, () => member(at(), 'items'));
  return {
    serial,
    label: stringField(version, 'label', at),
    items: Object.entries(items).map(([name, item]) =>
      parseItem(item, () => member(member(at(), 'items'), name)),
    ),
  };
}

const PRODUCT_STRINGS = ['release_codename'] as const;

function parseProduct(key: string, value: unknown, at: () => string): Product {
  const product = objectValue(value, at);
  for (const name of PRODUCT_STRINGS) stringField(product, name, at);
  booleanField(product, 'supported', at);
  const versions = objectValue(product.versions, () => member(at(), 'versions'));
  return {
    key,
    aliases: stringField(product, 'aliases', at),
    arch: stringField(product, 'arch', at),
    os: stringField(product, 'os', at),
    release: stringField(product, 'release', at),
    releaseTitle: stringField(product, 'release_title', at),
    version: stringField(product, 'version', at),
    variant: stringField(product, 'variant', at),
    supportEol: stringField(product, 'support_eol', at),
    requirements: stringMapField(product, 'lxd_requirements', at),
    versions: Object.entries(versions).map(([serial, version]) =>
      parseVersion(serial, version, () => member(member(at(), 'versions'), serial)),
    ),
  };
}

/** The products file's own fields (not its products), as Go decodes them; throws ShapeError. */
export function checkProductsFile(root: unknown): JsonObject {
  const file = objectValue(root, () => 'the file');
  for (const key of ['content_id', 'datatype', 'format', 'license', 'updated'])
    stringField(file, key, () => '');
  return file;
}

/** One product of a products file, `products[key]`; throws ShapeError. */
export function readProduct(key: string, value: unknown): Product {
  return parseProduct(key, value, () => member('products', key));
}

/** Reads an image-downloads products file (e.g. `streams/v1/images.json`). */
export function parseProducts(text: string | Buffer, source: string): Product[] {
  const json = parseJson(text, source);
  try {
    const products = objectValue(checkProductsFile(json).products, () => 'products');
    return Object.entries(products).map(([key, product]) => readProduct(key, product));
  } catch (error) {
    throw shapeFailure(error, 'products file', source);
  }
}

const EPOCH = '1970-01-01T00:00:00Z';
const NEVER = '0001-01-01T00:00:00Z';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(month: number, year: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/** Go's time.Parse with a fixed numeric layout, as RFC 3339 the way Go prints it. */
function goDate(year: string, month: string, day: string): string | undefined {
  const m = Number(month);
  const d = Number(day);
  if (m < 1 || m > 12 || d < 1 || d > daysIn(m, Number(year))) return undefined;
  return `${year}-${month}-${day}T00:00:00Z`;
}

/** ToLXD: a serial's first 8 characters are its date (`20060102`); others are skipped. */
export function serialDate(serial: string): string | undefined {
  const match = /^(\d{4})(\d\d)(\d\d)/.exec(serial);
  return match === null ? undefined : goDate(match[1] ?? '', match[2] ?? '', match[3] ?? '');
}

/** ToLXD: `support_eol` (`2006-01-02`) is the expiry; otherwise the Unix epoch. */
export function eolDate(eol: string): string {
  const match = /^(\d{4})-(\d\d)-(\d\d)$/.exec(eol);
  return (match && goDate(match[1] ?? '', match[2] ?? '', match[3] ?? '')) ?? EPOCH;
}

/** Rootfs ftypes LXD pairs with an `lxd.tar.xz`; others (deltas, incus.tar.xz…) are ignored. */
const ROOTFS_TYPES = new Set(['disk1.img', 'disk-kvm.img', 'uefi1.img', 'root.tar.xz', 'squashfs']);
const VM_ROOTFS_TYPES = new Set(['disk1.img', 'disk-kvm.img', 'uefi1.img']);

function fingerprintOf(meta: ProductItem, root: ProductItem | undefined): string {
  if (root === undefined) return meta.sha256;
  switch (root.ftype) {
    case 'root.tar.xz':
      return meta.combinedRootxzSha256 !== '' ? meta.combinedRootxzSha256 : meta.combinedSha256;
    case 'squashfs':
      return meta.combinedSquashfsSha256;
    case 'disk-kvm.img':
      return meta.combinedDiskKvmImgSha256;
    case 'disk1.img':
      return meta.combinedDisk1ImgSha256;
    case 'uefi1.img':
      return meta.combinedUefi1ImgSha256;
    default:
      return '';
  }
}

/** A product alias, and the same as `<alias>/<simplestreams arch>`. */
interface ProvidedAlias {
  name: string;
  withArch: string;
}

/** An image before applyAliases, with what ordering and aliasing need. */
export interface Candidate {
  image: LxdImage;
  /** The product's aliases, each also as `<alias>/<simplestreams arch>`; undefined when it has none (Go: a nil list). */
  provided: ProvidedAlias[] | undefined;
  /** sortedImages.Less's keys, read once: os, release, variant, serial, architecture. */
  keys: string[];
  /** sort.go's preference for its rootfs type. */
  typeScore: number;
  /** A key holds a UTF-16 unit from U+D800 up, where JS and Go order strings differently. */
  wide: boolean;
}

/** What every image of a product shares, worked out once per product. */
interface ProductShared {
  product: Product;
  architecture: string;
  expiresAt: string;
  provided: ProvidedAlias[] | undefined;
  /** "os release_title arch", the start of every description. */
  title: string;
}

const WIDE = /[\uD800-\uFFFF]/;

function imageOf(
  shared: ProductShared,
  version: ProductVersion,
  createdAt: string,
  meta: ProductItem,
  root: ProductItem | undefined,
): Candidate | undefined {
  const { product } = shared;
  const fingerprint = fingerprintOf(meta, root);
  if (fingerprint === '' || meta.path === '') return undefined;
  let description = shared.title;
  if (version.label !== '') description += ` (${version.label})`;
  description += ` (${version.serial})`;
  const type = root?.ftype ?? 'tar.gz';
  // Go fills the map then deletes empty values; no key is set twice, so skipping them is the same.
  const properties: Record<string, string> = {};
  if (product.os !== '') properties.os = product.os;
  if (product.release !== '') properties.release = product.release;
  if (product.version !== '') properties.version = product.version;
  if (product.arch !== '') properties.architecture = product.arch;
  if (version.label !== '') properties.label = version.label;
  if (version.serial !== '') properties.serial = version.serial;
  properties.description = description;
  for (const [key, value] of product.requirements)
    if (value !== '') properties[`requirements.${key}`] = value;
  if (product.variant !== '') properties.variant = product.variant;
  properties.type = type;
  const keys = [product.os, product.release, product.variant, version.serial, product.arch];
  return {
    image: {
      fingerprint,
      filename: meta.path.slice(meta.path.lastIndexOf('/') + 1),
      size: meta.size + (root?.size ?? 0),
      architecture: shared.architecture,
      public: true,
      auto_update: false,
      cached: false,
      type: root !== undefined && VM_ROOTFS_TYPES.has(root.ftype) ? 'virtual-machine' : 'container',
      created_at: createdAt,
      uploaded_at: createdAt,
      expires_at: shared.expiresAt,
      last_used_at: NEVER,
      properties,
      aliases: [],
      profiles: [],
    },
    provided: shared.provided,
    keys,
    typeScore: TYPE_SCORE.get(type) ?? 0,
    wide: keys.some((key) => WIDE.test(key)),
  };
}

/** Products.ToLXD: one image per `lxd_combined.tar.gz`, one per `lxd.tar.xz` × rootfs pairing. */
export function productImages(product: Product): Candidate[] {
  const into: Candidate[] = [];
  const architecture = architectureName(product.arch);
  if (architecture === undefined) return into;
  const shared: ProductShared = {
    product,
    architecture,
    expiresAt: eolDate(product.supportEol),
    // Made once per product, not once per image (properties.architecture is product.arch).
    provided:
      product.aliases === ''
        ? undefined
        : product.aliases.split(',').map((name) => ({ name, withArch: `${name}/${product.arch}` })),
    title: `${product.os} ${product.releaseTitle} ${product.arch}`,
  };
  for (const version of product.versions) {
    const createdAt = serialDate(version.serial);
    if (createdAt === undefined) continue;
    const add = (meta: ProductItem, root: ProductItem | undefined) => {
      const candidate = imageOf(shared, version, createdAt, meta, root);
      if (candidate !== undefined) into.push(candidate);
    };
    for (const item of version.items) {
      if (item.ftype === 'lxd_combined.tar.gz') add(item, undefined);
      if (item.ftype !== 'lxd.tar.xz') continue;
      for (const root of version.items) if (ROOTFS_TYPES.has(root.ftype)) add(item, root);
    }
  }
  return into;
}

/** Go compares strings bytewise (UTF-8 order); JS by UTF-16 unit: they differ past U+FFFF only. */
function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

/** sort.go's preference among rootfs types; unknown ones (tar.gz) score like squashfs. */
const TYPE_SCORE = new Map([
  ['squashfs', 0],
  ['root.tar.xz', 1],
  ['disk-kvm.img', 2],
  ['uefi1.img', 3],
  ['disk1.img', 4],
]);

/** The key at which the order is newest first (serial). */
const DESCENDING_KEY = 3;

/**
 * sortedImages.Less: os, release, variant ascending, serial descending,
 * architecture ascending, then preferred rootfs type. LXD means an empty
 * value to sort last but its check is mistyped (it compares a[i] twice),
 * which makes the order undefined; this follows the intent. Full ties keep
 * the catalog's order (LXD's sort is unstable: its order is then random).
 * Keys without wide units compare natively (the same order as Go's, and far faster).
 */
function compareImages(a: Candidate, b: Candidate): number {
  const wide = a.wide || b.wide;
  for (let i = 0; i < a.keys.length; i++) {
    const x = a.keys[i] ?? '';
    const y = b.keys[i] ?? '';
    if (x === y) continue;
    if (x === '') return 1;
    if (y === '') return -1;
    const order = wide ? compareUtf8(x, y) : x < y ? -1 : 1;
    return i === DESCENDING_KEY ? -order : order;
  }
  return a.typeScore - b.typeScore;
}

/** simplestreams.go urlDefaultOS: this server's aliases are shown without `ubuntu/`. */
const URL_DEFAULT_OS: [string, string][] = [['https://cloud-images.ubuntu.com', 'ubuntu']];

interface AliasRecord {
  alias: CatalogAlias;
  architecture: string;
}

/**
 * applyAliases: in sorted order, each product alias becomes `<alias>` (shown
 * on the image only when it is of the host's architecture, yet recorded for
 * every architecture) and `<alias>/<simplestreams arch>`; the first image to
 * claim a name for its type and architecture keeps it.
 */
function applyAliases(candidates: Candidate[], options: CatalogOptions): AliasRecord[] {
  const defaultOs = URL_DEFAULT_OS.find(([prefix]) => options.url.startsWith(prefix))?.[1];
  const trim = defaultOs === undefined ? '' : `${defaultOs}/`;
  // The names claimed, by type then architecture (a few of those, many names).
  const claimed = new Map<string, Map<string, Set<string>>>();
  const records: AliasRecord[] = [];
  const claim = (image: LxdImage, alias: string): LxdImageAlias | undefined => {
    const name = trim !== '' && alias.startsWith(trim) ? alias.slice(trim.length) : alias;
    let byArchitecture = claimed.get(image.type);
    if (byArchitecture === undefined)
      claimed.set(image.type, (byArchitecture = new Map<string, Set<string>>()));
    let names = byArchitecture.get(image.architecture);
    if (names === undefined) byArchitecture.set(image.architecture, (names = new Set<string>()));
    if (names.has(name)) return undefined;
    names.add(name);
    const entry = { name, description: '', target: image.fingerprint, type: image.type };
    records.push({ alias: entry, architecture: image.architecture });
    return { name, description: '' };
  };
  for (const { image, provided } of candidates) {
    if (provided === undefined) continue;
    for (const { name, withArch } of provided) {
      const short = claim(image, name);
      if (short !== undefined && image.architecture === options.hostArchitecture)
        image.aliases.push(short);
      const medium = claim(image, withArch);
      if (medium !== undefined) image.aliases.push(medium);
    }
  }
  return records;
}

/**
 * ListAliases: the host's architecture first, then the ones it also runs
 * (i686 on x86_64), then the rest; one alias per name and type. Among
 * several foreign architectures LXD's unstable sort picks any: here the first.
 */
function listAliases(records: AliasRecord[], hostArchitecture: string): CatalogAlias[] {
  const personalities = new Set(architecturePersonalities(hostArchitecture));
  const rank = (architecture: string) =>
    architecture === hostArchitecture ? 0 : personalities.has(architecture) ? 1 : 2;
  const ranked = records
    .map((record) => ({ record, rank: rank(record.architecture) }))
    .sort((a, b) => a.rank - b.rank);
  const seen = new Set<string>();
  const aliases: CatalogAlias[] = [];
  for (const { record } of ranked) {
    const key = `${record.alias.name}\0${record.alias.type}`;
    if (seen.has(key)) continue;
    seen.add(key);
    aliases.push(record.alias);
  }
  return aliases;
}

/** A products file's images before LXD's order and aliases, product by product. */
export type FileImages = readonly (readonly Candidate[])[];

export const fileImages = (products: readonly Product[]): FileImages =>
  products.map((product) => productImages(product));

/** getImages + ListAliases over every products file of the index, in the index's order. */
export function buildCatalog(productFiles: Product[][], options: CatalogOptions): CatalogContent {
  return catalogOf(productFiles.map(fileImages), options);
}

/** buildCatalog, from files whose images were made as they were read (ProductsReader). */
export function catalogOf(files: readonly FileImages[], options: CatalogOptions): CatalogContent {
  const candidates: Candidate[] = [];
  for (const file of files)
    for (const images of file) for (const candidate of images) candidates.push(candidate);
  candidates.sort(compareImages);
  const records = applyAliases(candidates, options);
  return {
    images: candidates.map((candidate) => candidate.image),
    aliases: listAliases(records, options.hostArchitecture),
  };
}
