/**
 * Deterministic simplestreams catalogs shaped like images.linuxcontainers.org
 * (os:release:arch:variant products, amd64 and arm64, lxd.tar.xz with
 * root.tar.xz, squashfs, deltas and VM disks), for tests and benchmarks.
 * Hashes of the fake items are sha256 of their names: only the fixture
 * product's files exist.
 */
import { createHash } from 'node:crypto';
import { buildRealImage } from './real-image.js';

export interface GenerateOptions {
  products: number;
  versionsPerProduct: number;
  /** Every nth product also carries a VM disk (disk-kvm.img); 0 for none. Default 3. */
  vmEvery?: number;
  /** Products that exercise LXD's rules (skipped serials, missing hashes, unified, foreign arches…). */
  edgeCases?: boolean;
  /** A product whose newest version is a real image (split and unified). Default true. */
  realImage?: boolean;
  /** Date of the oldest version; one version a day after it. Default 2024-01-01. */
  firstDay?: string;
}

export interface FixtureImageInfo {
  alias: string;
  fingerprint: string;
  /** Server paths of its files. */
  files: string[];
}

export interface GeneratedCatalog {
  /** Server path (no leading slash) → content. */
  files: Map<string, Buffer>;
  /** Versions in all products files. */
  versions: number;
  fixture?: { split: FixtureImageInfo; unified: FixtureImageInfo };
}

type Json = Record<string, unknown>;

interface Distro {
  os: string;
  title: string;
  releases: { release: string; version?: string; title: string }[];
}

const DISTROS: Distro[] = [
  {
    os: 'debian',
    title: 'Debian',
    releases: [
      { release: 'bullseye', version: '11', title: 'bullseye' },
      { release: 'bookworm', version: '12', title: 'bookworm' },
      { release: 'trixie', version: '13', title: 'trixie' },
    ],
  },
  {
    os: 'ubuntu',
    title: 'Ubuntu',
    releases: [
      { release: 'focal', version: '20.04', title: '20.04 LTS' },
      { release: 'jammy', version: '22.04', title: '22.04 LTS' },
      { release: 'noble', version: '24.04', title: '24.04 LTS' },
    ],
  },
  {
    os: 'alpine',
    title: 'Alpine',
    releases: [
      { release: '3.19', title: '3.19' },
      { release: '3.20', title: '3.20' },
      { release: 'edge', title: 'edge' },
    ],
  },
  { os: 'fedora', title: 'Fedora', releases: [{ release: '40', title: '40' }] },
  { os: 'archlinux', title: 'Archlinux', releases: [{ release: 'current', title: 'current' }] },
];

const RELEASES = DISTROS.flatMap((distro) =>
  distro.releases.map((release) => ({ ...release, os: distro.os, osTitle: distro.title })),
);
const ARCHES = ['amd64', 'arm64'];
const VARIANTS = ['default', 'cloud'];

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** A stable size in [1 MiB, 257 MiB) for a fake file. */
const sizeOf = (hash: string) => 1_048_576 + (parseInt(hash.slice(0, 7), 16) % 268_435_456);

function serialOf(firstDay: number, index: number): string {
  const day = new Date(firstDay + index * 86_400_000).toISOString();
  return `${day.slice(0, 10).replaceAll('-', '')}_${day.slice(11, 16)}`;
}

function fakeItem(path: string, ftype: string): Json {
  const hash = sha256(path);
  return { ftype, path, sha256: hash, size: sizeOf(hash) };
}

interface ProductShape {
  key: string;
  os: string;
  release: string;
  arch: string;
  variant: string;
  title: string;
  releaseTitle: string;
  aliases: string[];
  version?: string;
  vm: boolean;
}

/** One version like images.linuxcontainers.org's: lxd.tar.xz, rootfs in three forms, a delta. */
function standardVersion(product: ProductShape, serial: string, previous?: string): Json {
  const dir = `images/${product.os}/${product.release}/${product.arch}/${product.variant}/${serial}`;
  const meta = fakeItem(`${dir}/lxd.tar.xz`, 'lxd.tar.xz');
  const combined = (name: string) => sha256(`${dir}/combined/${name}`);
  meta.combined_sha256 = combined('rootxz');
  meta.combined_rootxz_sha256 = combined('rootxz');
  meta.combined_squashfs_sha256 = combined('squashfs');
  const items: Json = {
    'lxd.tar.xz': meta,
    'incus.tar.xz': fakeItem(`${dir}/incus.tar.xz`, 'incus.tar.xz'),
    'root.tar.xz': fakeItem(`${dir}/rootfs.tar.xz`, 'root.tar.xz'),
    'rootfs.squashfs': fakeItem(`${dir}/rootfs.squashfs`, 'squashfs'),
  };
  if (product.vm) {
    meta['combined_disk-kvm-img_sha256'] = combined('disk-kvm');
    items['disk.qcow2'] = fakeItem(`${dir}/disk.qcow2`, 'disk-kvm.img');
  }
  if (previous !== undefined) {
    const delta = fakeItem(`${dir}/delta-${previous}.vcdiff`, 'squashfs.vcdiff');
    items[`delta-${previous}.vcdiff`] = { ...delta, delta_base: previous };
  }
  return { items };
}

function productJson(product: ProductShape, versions: Json): Json {
  return {
    aliases: product.aliases.join(','),
    arch: product.arch,
    os: product.title,
    release: product.release,
    release_title: product.releaseTitle,
    variant: product.variant,
    requirements: {},
    ...(product.version === undefined ? {} : { version: product.version }),
    versions,
  };
}

function standardShape(index: number, vmEvery: number): ProductShape {
  const arch = ARCHES[index % ARCHES.length] ?? 'amd64';
  const variant = VARIANTS[Math.floor(index / ARCHES.length) % VARIANTS.length] ?? 'default';
  const slot = Math.floor(index / (ARCHES.length * VARIANTS.length));
  const known = RELEASES[slot];
  const release = known ?? {
    os: 'generic',
    osTitle: 'Generic',
    release: `r${slot - RELEASES.length}`,
    title: `release ${slot - RELEASES.length}`,
    version: undefined,
  };
  const names = [release.release, ...(release.version === undefined ? [] : [release.version])];
  const suffix = variant === 'default' ? ['', '/default'] : ['/cloud'];
  return {
    key: `${release.os}:${release.release}:${arch}:${variant}`,
    os: release.os,
    release: release.release,
    arch,
    variant,
    title: release.osTitle,
    releaseTitle: release.title,
    aliases: names.flatMap((name) => suffix.map((end) => `${release.os}/${name}${end}`)),
    ...(release.version === undefined ? {} : { version: release.version }),
    vm: vmEvery > 0 && index % vmEvery === 0,
  };
}

/** Products that exercise LXD's rules; each has its own release so none ties with another. */
function edgeProducts(firstDay: number): Record<string, Json> {
  const serial = serialOf(firstDay, 40);
  const dir = (name: string) => `images/edgecase/${name}/${serial}`;
  const meta = (name: string, extra: Json = {}) => ({
    ...fakeItem(`${dir(name)}/lxd.tar.xz`, 'lxd.tar.xz'),
    ...extra,
  });
  const base = (release: string, arch: string, aliases: string, items: Json, more: Json = {}) => ({
    aliases,
    arch,
    os: 'Edgecase',
    release,
    release_title: release,
    variant: 'default',
    versions: { [serial]: { items } },
    ...more,
  });
  const squashfs = (name: string) => fakeItem(`${dir(name)}/rootfs.squashfs`, 'squashfs');
  const rootxz = (name: string) => fakeItem(`${dir(name)}/rootfs.tar.xz`, 'root.tar.xz');
  return {
    // No combined_squashfs_sha256: no squashfs image; root.tar.xz falls back to combined_sha256.
    'edgecase:missing-combined:amd64:default': base('missing-combined', 'amd64', 'edge/missing', {
      'lxd.tar.xz': meta('missing-combined', { combined_sha256: sha256('missing/rootxz') }),
      'root.tar.xz': rootxz('missing-combined'),
      'rootfs.squashfs': squashfs('missing-combined'),
      'disk.qcow2': fakeItem(`${dir('missing-combined')}/disk.qcow2`, 'disk-kvm.img'),
    }),
    // A unified image: fingerprint = its sha256, type property tar.gz; label and end of life.
    'edgecase:unified:amd64:default': base(
      'unified',
      'amd64',
      'edge/unified',
      { 'lxd_combined.tar.gz': fakeItem(`${dir('unified')}/lxd.tar.gz`, 'lxd_combined.tar.gz') },
      { support_eol: '2029-06-30' },
    ),
    // Serials LXD skips (short, not a date, 30 February, month 13) next to a leap day it keeps.
    'edgecase:serials:amd64:default': {
      ...base('serials', 'amd64', 'edge/serials', {}),
      versions: Object.fromEntries(
        ['2024', '2024x101_00:00', '20230230_00:00', '20241301_00:00', '20240229_01:00'].map(
          (name) => [
            name,
            {
              label: name === '20240229_01:00' ? 'leap day' : '',
              items: {
                'lxd.tar.xz': {
                  ...fakeItem(`images/edgecase/serials/${name}/lxd.tar.xz`, 'lxd.tar.xz'),
                  combined_squashfs_sha256: sha256(`serials/${name}`),
                },
                'rootfs.squashfs': fakeItem(`images/edgecase/serials/${name}/sq`, 'squashfs'),
              },
            },
          ],
        ),
      ),
    },
    // LXD does not know sparc: the product is skipped.
    'edgecase:sparc:sparc:default': base('sparc', 'sparc', 'edge/sparc', {
      'lxd.tar.xz': meta('sparc', { combined_squashfs_sha256: sha256('sparc/squashfs') }),
      'rootfs.squashfs': squashfs('sparc'),
    }),
    // One alias, no amd64 image: i386 (a personality of x86_64) wins over arm64.
    'edgecase:multiarch:i386:default': base('multiarch', 'i386', 'edge/multiarch', {
      'lxd.tar.xz': meta('multiarch-i386', { combined_squashfs_sha256: sha256('mi/squashfs') }),
      'rootfs.squashfs': squashfs('multiarch-i386'),
    }),
    'edgecase:multiarch:arm64:default': base('multiarch', 'arm64', 'edge/multiarch', {
      'lxd.tar.xz': meta('multiarch-arm64', { combined_squashfs_sha256: sha256('ma/squashfs') }),
      'rootfs.squashfs': squashfs('multiarch-arm64'),
    }),
    // Only arm64: the short alias is listed (pointing at arm64) but not shown on the image.
    'edgecase:arm-only:arm64:default': base('arm-only', 'arm64', 'edge/arm-only', {
      'lxd.tar.xz': meta('arm-only', { combined_rootxz_sha256: sha256('arm-only/rootxz') }),
      'root.tar.xz': rootxz('arm-only'),
    }),
    // Requirements (an empty one is dropped), a version, no title, no variant.
    'edgecase:requirements:amd64': {
      ...base('requirements', 'amd64', 'edge/requirements', {
        'lxd.tar.xz': meta('requirements', { combined_squashfs_sha256: sha256('req/squashfs') }),
        'rootfs.squashfs': squashfs('requirements'),
      }),
      variant: undefined,
      release_title: undefined,
      version: '1.0',
      lxd_requirements: { secureboot: 'false', nesting: 'true', cgroup: '' },
    },
    // No path on the metadata item: LXD skips the image.
    'edgecase:no-path:amd64:default': base('no-path', 'amd64', 'edge/no-path', {
      'lxd.tar.xz': { ...meta('no-path'), path: '', combined_squashfs_sha256: sha256('np') },
      'rootfs.squashfs': squashfs('no-path'),
    }),
    // Two products claim one alias: the first in LXD's order (release a < b) keeps it.
    'edgecase:conflict-a:amd64:default': base('conflict-a', 'amd64', 'edge/conflict', {
      'lxd.tar.xz': meta('conflict-a', { combined_squashfs_sha256: sha256('ca/squashfs') }),
      'rootfs.squashfs': squashfs('conflict-a'),
    }),
    'edgecase:conflict-b:amd64:default': base(
      'conflict-b',
      'amd64',
      'edge/conflict,edge/conflict-b',
      {
        'lxd.tar.xz': meta('conflict-b', { combined_squashfs_sha256: sha256('cb/squashfs') }),
        'rootfs.squashfs': squashfs('conflict-b'),
      },
    ),
    // Cloud-images style VM disks: disk1.img and uefi1.img.
    'edgecase:disks:amd64:default': base('disks', 'amd64', 'edge/disks', {
      'lxd.tar.xz': meta('disks', {
        'combined_disk1-img_sha256': sha256('disks/disk1'),
        'combined_uefi1-img_sha256': sha256('disks/uefi1'),
      }),
      'disk1.img': fakeItem(`${dir('disks')}/disk1.img`, 'disk1.img'),
      'uefi1.img': fakeItem(`${dir('disks')}/uefi1.img`, 'uefi1.img'),
    }),
  };
}

function fixtureProducts(firstDay: number, files: Map<string, Buffer>) {
  const older = serialOf(firstDay, 0);
  const newest = serialOf(firstDay, 1);
  const image = buildRealImage(newest);
  const dir = `images/hangar/fixture/amd64/default/${newest}`;
  const unifiedDir = `images/hangar/fixture-unified/amd64/default/${newest}`;
  const paths = {
    metadata: `${dir}/lxd.tar.xz`,
    rootfs: `${dir}/rootfs.tar.xz`,
    unified: `${unifiedDir}/lxd.tar.gz`,
  };
  files.set(paths.metadata, image.metadata);
  files.set(paths.rootfs, image.rootfs);
  files.set(paths.unified, image.unified);
  const real = (path: string, ftype: string, data: Buffer) => ({
    ftype,
    path,
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
  });
  const shape: ProductShape = {
    key: 'hangar:fixture:amd64:default',
    os: 'hangar',
    release: 'fixture',
    arch: 'amd64',
    variant: 'default',
    title: 'Hangar',
    releaseTitle: 'fixture',
    aliases: ['hangar/fixture'],
    vm: false,
  };
  const products: Record<string, Json> = {
    [shape.key]: productJson(shape, {
      [older]: standardVersion(shape, older),
      [newest]: {
        items: {
          'lxd.tar.xz': {
            ...real(paths.metadata, 'lxd.tar.xz', image.metadata),
            combined_sha256: image.splitFingerprint,
            combined_rootxz_sha256: image.splitFingerprint,
          },
          'root.tar.xz': real(paths.rootfs, 'root.tar.xz', image.rootfs),
        },
      },
    }),
    'hangar:fixture-unified:amd64:default': productJson(
      {
        ...shape,
        release: 'fixture-unified',
        releaseTitle: 'fixture (unified)',
        aliases: ['hangar/fixture-unified'],
      },
      {
        [newest]: {
          items: {
            'lxd_combined.tar.gz': real(paths.unified, 'lxd_combined.tar.gz', image.unified),
          },
        },
      },
    ),
  };
  const fixture = {
    split: {
      alias: 'hangar/fixture',
      fingerprint: image.splitFingerprint,
      files: [paths.metadata, paths.rootfs],
    },
    unified: {
      alias: 'hangar/fixture-unified',
      fingerprint: image.unifiedFingerprint,
      files: [paths.unified],
    },
  };
  return { products, fixture, versions: 3 };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

export function generateCatalog(options: GenerateOptions): GeneratedCatalog {
  const firstDay = Date.parse(`${options.firstDay ?? '2024-01-01'}T05:24:00Z`);
  const vmEvery = options.vmEvery ?? 3;
  const files = new Map<string, Buffer>();
  const products: Record<string, Json> = {};
  let versions = 0;
  for (let index = 0; index < options.products; index++) {
    const shape = standardShape(index, vmEvery);
    const entries: Json = {};
    for (let v = 0; v < options.versionsPerProduct; v++) {
      const serial = serialOf(firstDay, v);
      entries[serial] = standardVersion(
        shape,
        serial,
        v > 0 ? serialOf(firstDay, v - 1) : undefined,
      );
    }
    products[shape.key] = productJson(shape, entries);
    versions += options.versionsPerProduct;
  }
  let fixture: GeneratedCatalog['fixture'];
  if (options.realImage ?? true) {
    const real = fixtureProducts(firstDay, files);
    Object.assign(products, real.products);
    fixture = real.fixture;
    versions += real.versions;
  }
  const index: Record<string, Json> = {
    images: {
      datatype: 'image-downloads',
      path: 'streams/v1/images.json',
      format: 'products:1.0',
      products: Object.keys(products),
    },
  };
  if (options.edgeCases) {
    const edge = edgeProducts(firstDay);
    for (const product of Object.values(edge))
      versions += Object.keys(product.versions as Json).length;
    files.set(
      'streams/v1/edge.json',
      json({
        content_id: 'edge',
        datatype: 'image-downloads',
        format: 'products:1.0',
        products: edge,
      }),
    );
    index.edge = {
      datatype: 'image-downloads',
      path: 'streams/v1/edge.json',
      format: 'products:1.0',
      products: Object.keys(edge),
    };
    // Ignored by LXD: not images, and an image list with no products.
    index.other = {
      datatype: 'content-download',
      path: 'streams/v1/missing.json',
      products: ['x'],
    };
    index.empty = { datatype: 'image-downloads', path: 'streams/v1/missing.json', products: [] };
  }
  files.set(
    'streams/v1/images.json',
    json({ content_id: 'images', datatype: 'image-downloads', format: 'products:1.0', products }),
  );
  files.set('streams/v1/index.json', json({ format: 'index:1.0', index }));
  return { files, versions, ...(fixture === undefined ? {} : { fixture }) };
}
