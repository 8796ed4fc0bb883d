import { describe, expect, it } from 'vitest';
import { generateCatalog } from '../../scripts/simplestreams/catalog-generator.js';
import {
  buildCatalog,
  eolDate,
  imageDownloadEntries,
  parseIndex,
  parseProducts,
  serialDate,
  type CatalogOptions,
} from './catalog.js';

type Json = Record<string, unknown>;

const HOST: CatalogOptions = { url: 'https://images.example.org', hostArchitecture: 'x86_64' };
const SERIAL = '20240601_05:24';

const item = (ftype: string, path: string, size: number, extra: Json = {}) => ({
  ftype,
  path,
  size,
  sha256: `sha-${path}`,
  ...extra,
});

/** lxd.tar.xz with every combined hash, root.tar.xz, squashfs, a VM disk and a delta. */
function fullVersion(name: string, extra: Json = {}): Json {
  return {
    items: {
      'lxd.tar.xz': item('lxd.tar.xz', `images/${name}/lxd.tar.xz`, 1000, {
        combined_sha256: `${name}-combined`,
        combined_rootxz_sha256: `${name}-rootxz`,
        combined_squashfs_sha256: `${name}-squashfs`,
        'combined_disk-kvm-img_sha256': `${name}-kvm`,
      }),
      'root.tar.xz': item('root.tar.xz', `images/${name}/rootfs.tar.xz`, 20),
      'rootfs.squashfs': item('squashfs', `images/${name}/rootfs.squashfs`, 30),
      'disk.qcow2': item('disk-kvm.img', `images/${name}/disk.qcow2`, 40),
      'delta.vcdiff': item('squashfs.vcdiff', `images/${name}/delta.vcdiff`, 5, {
        delta_base: 'x',
      }),
      'incus.tar.xz': item('incus.tar.xz', `images/${name}/incus.tar.xz`, 7),
    },
    ...extra,
  };
}

function product(arch: string, versions: Json, extra: Json = {}): Json {
  return {
    aliases: 'debian/12,debian/bookworm',
    arch,
    os: 'Debian',
    release: 'bookworm',
    release_title: 'bookworm',
    variant: 'default',
    version: '12',
    versions,
    ...extra,
  };
}

function catalogOf(products: Json, options: CatalogOptions = HOST) {
  return buildCatalog([parseProducts(JSON.stringify({ products }), 'images.json')], options);
}

const byFingerprint = (catalog: ReturnType<typeof catalogOf>, fingerprint: string) => {
  const image = catalog.images.find((entry) => entry.fingerprint === fingerprint);
  if (image === undefined) throw new Error(`no image ${fingerprint}`);
  return image;
};

/** The squashfs images' fingerprints, in the catalog's order: one image per product and version. */
const squashfsOrder = (catalog: ReturnType<typeof catalogOf>) =>
  catalog.images
    .filter((image) => image.properties.type === 'squashfs')
    .map((image) => image.fingerprint);

describe('products → images (ToLXD)', () => {
  it('makes one image per lxd.tar.xz × rootfs pairing, with every field LXD fills', () => {
    const catalog = catalogOf({
      'debian:bookworm:amd64:default': product('amd64', { [SERIAL]: fullVersion('a') }),
    });
    expect(catalog.images.map((image) => image.fingerprint)).toEqual([
      'a-squashfs',
      'a-rootxz',
      'a-kvm',
    ]);
    expect(byFingerprint(catalog, 'a-squashfs')).toEqual({
      fingerprint: 'a-squashfs',
      filename: 'lxd.tar.xz',
      size: 1030,
      architecture: 'x86_64',
      public: true,
      auto_update: false,
      cached: false,
      type: 'container',
      created_at: '2024-06-01T00:00:00Z',
      uploaded_at: '2024-06-01T00:00:00Z',
      expires_at: '1970-01-01T00:00:00Z',
      last_used_at: '0001-01-01T00:00:00Z',
      properties: {
        os: 'Debian',
        release: 'bookworm',
        version: '12',
        architecture: 'amd64',
        serial: SERIAL,
        description: `Debian bookworm amd64 (${SERIAL})`,
        variant: 'default',
        type: 'squashfs',
      },
      aliases: [
        { name: 'debian/12', description: '' },
        { name: 'debian/12/amd64', description: '' },
        { name: 'debian/bookworm', description: '' },
        { name: 'debian/bookworm/amd64', description: '' },
      ],
      profiles: [],
    });
    const vm = byFingerprint(catalog, 'a-kvm');
    expect(vm.type).toBe('virtual-machine');
    expect(vm.size).toBe(1040);
    expect(vm.properties.type).toBe('disk-kvm.img');
    // The VM keeps the same alias names: aliases are unique per name *and* type.
    expect(vm.aliases.map((alias) => alias.name)).toEqual([
      'debian/12',
      'debian/12/amd64',
      'debian/bookworm',
      'debian/bookworm/amd64',
    ]);
    // root.tar.xz comes after squashfs for the same product and serial: it gets no alias.
    expect(byFingerprint(catalog, 'a-rootxz').aliases).toEqual([]);
  });

  it('picks the fingerprint by rootfs type, falling back to combined_sha256 for root.tar.xz only', () => {
    const version = {
      items: {
        'lxd.tar.xz': item('lxd.tar.xz', 'm/lxd.tar.xz', 1, {
          combined_sha256: 'fallback',
          'combined_disk1-img_sha256': 'disk1',
          'combined_uefi1-img_sha256': 'uefi1',
        }),
        'root.tar.xz': item('root.tar.xz', 'm/root.tar.xz', 1),
        squashfs: item('squashfs', 'm/rootfs.squashfs', 1),
        kvm: item('disk-kvm.img', 'm/disk.qcow2', 1),
        disk1: item('disk1.img', 'm/disk1.img', 1),
        uefi1: item('uefi1.img', 'm/uefi1.img', 1),
      },
    };
    const catalog = catalogOf({ p: product('amd64', { [SERIAL]: version }) });
    // No combined_squashfs_sha256 / combined_disk-kvm-img_sha256: those pairings are skipped.
    expect(
      catalog.images.map((image) => [image.fingerprint, image.type, image.properties.type]),
    ).toEqual([
      ['fallback', 'container', 'root.tar.xz'],
      ['uefi1', 'virtual-machine', 'uefi1.img'],
      ['disk1', 'virtual-machine', 'disk1.img'],
    ]);
  });

  it('takes lxd_combined.tar.gz as a unified image: its own sha256, type tar.gz', () => {
    const version = {
      items: {
        unified: item('lxd_combined.tar.gz', 'u/20240601/lxd.tar.gz', 500),
        extra: item('root.tar.xz', 'u/root.tar.xz', 10),
      },
    };
    const [image] = catalogOf({ p: product('amd64', { [SERIAL]: version }) }).images;
    expect(image).toMatchObject({
      fingerprint: 'sha-u/20240601/lxd.tar.gz',
      filename: 'lxd.tar.gz',
      size: 500,
      type: 'container',
      properties: { type: 'tar.gz' },
    });
  });

  it('ignores deltas, unknown ftypes, unknown architectures and metadata without a path', () => {
    const noPath = {
      items: {
        meta: item('lxd.tar.xz', '', 1, { combined_squashfs_sha256: 'no-path' }),
        root: item('squashfs', 'x/rootfs.squashfs', 1),
      },
    };
    const catalog = catalogOf({
      sparc: product('sparc', { [SERIAL]: fullVersion('s') }),
      nopath: product('amd64', { [SERIAL]: noPath }, { release: 'other' }),
      only: product('amd64', {
        [SERIAL]: {
          items: { d: item('squashfs.vcdiff', 'd', 1), i: item('incus.tar.xz', 'i', 1) },
        },
      }),
    });
    expect(catalog.images).toEqual([]);
  });

  it('dates images from the serial and skips serials that are not dates', () => {
    const versions = Object.fromEntries(
      ['2024', '2024x101_00:00', '20230230', '20241301', '20240229_01:00', '20230601'].map(
        (serial) => [serial, fullVersion(serial)],
      ),
    );
    const catalog = catalogOf({ p: product('amd64', versions) });
    const serials = new Set(catalog.images.map((image) => image.properties.serial));
    expect([...serials]).toEqual(['20240229_01:00', '20230601']);
    expect(byFingerprint(catalog, '20240229_01:00-squashfs').created_at).toBe(
      '2024-02-29T00:00:00Z',
    );
    expect(serialDate('00010101')).toBe('0001-01-01T00:00:00Z');
    expect(serialDate('19000229')).toBeUndefined();
    expect(serialDate('20000229')).toBe('2000-02-29T00:00:00Z');
  });

  it('reads support_eol as the expiry and builds the description with label and serial', () => {
    const catalog = catalogOf({
      p: product(
        'amd64',
        { [SERIAL]: fullVersion('e', { label: 'release' }) },
        { support_eol: '2029-06-30', release_title: '12 (bookworm)' },
      ),
    });
    const image = byFingerprint(catalog, 'e-squashfs');
    expect(image.expires_at).toBe('2029-06-30T00:00:00Z');
    expect(image.properties.label).toBe('release');
    expect(image.properties.description).toBe(`Debian 12 (bookworm) amd64 (release) (${SERIAL})`);
    expect(eolDate('2029-02-30')).toBe('1970-01-01T00:00:00Z');
    expect(eolDate('2029-6-30')).toBe('1970-01-01T00:00:00Z');
  });

  it('copies lxd_requirements and drops empty properties (no variant, no version, no title)', () => {
    const catalog = catalogOf({
      p: product(
        'amd64',
        { [SERIAL]: fullVersion('r') },
        {
          variant: undefined,
          version: '',
          release_title: undefined,
          lxd_requirements: { secureboot: 'false', empty: '' },
          // LXD 5.0.2 reads lxd_requirements only; `requirements` comes with later releases.
          requirements: { nesting: 'true' },
        },
      ),
    });
    expect(byFingerprint(catalog, 'r-squashfs').properties).toEqual({
      os: 'Debian',
      release: 'bookworm',
      architecture: 'amd64',
      serial: SERIAL,
      description: `Debian  amd64 (${SERIAL})`,
      'requirements.secureboot': 'false',
      type: 'squashfs',
    });
  });
});

describe('aliases (applyAliases, ListAliases)', () => {
  it('gives the short alias only to images of the host architecture, yet lists it for others', () => {
    const catalog = catalogOf({
      arm: product('arm64', { [SERIAL]: fullVersion('arm') }, { aliases: 'only/arm' }),
    });
    expect(byFingerprint(catalog, 'arm-squashfs').aliases).toEqual([
      { name: 'only/arm/arm64', description: '' },
    ]);
    expect(catalog.aliases).toContainEqual({
      name: 'only/arm',
      description: '',
      target: 'arm-squashfs',
      type: 'container',
    });
  });

  it('prefers the host architecture, then its personalities, for a shared alias', () => {
    const products = {
      arm: product('arm64', { [SERIAL]: fullVersion('arm') }, { aliases: 'shared' }),
      i386: product('i386', { [SERIAL]: fullVersion('i386') }, { aliases: 'shared' }),
    };
    const target = (options: CatalogOptions) =>
      catalogOf(products, options).aliases.find(
        (alias) => alias.name === 'shared' && alias.type === 'container',
      )?.target;
    expect(target(HOST)).toBe('i386-squashfs');
    expect(target({ ...HOST, hostArchitecture: 'aarch64' })).toBe('arm-squashfs');
    const withAmd64 = {
      ...products,
      amd: product('amd64', { [SERIAL]: fullVersion('amd') }, { aliases: 'shared' }),
    };
    expect(
      catalogOf(withAmd64).aliases.find(
        (alias) => alias.name === 'shared' && alias.type === 'container',
      )?.target,
    ).toBe('amd-squashfs');
  });

  it('gives aliases to the newest serial and, within it, to squashfs before root.tar.xz', () => {
    const catalog = catalogOf({
      p: product('amd64', { '20240101': fullVersion('old'), '20240301': fullVersion('new') }),
    });
    expect(catalog.images.map((image) => image.fingerprint)).toEqual([
      'new-squashfs',
      'new-rootxz',
      'new-kvm',
      'old-squashfs',
      'old-rootxz',
      'old-kvm',
    ]);
    expect(
      catalog.images.filter((image) => image.aliases.length > 0).map((i) => i.fingerprint),
    ).toEqual(['new-squashfs', 'new-kvm']);
    const list = catalog.aliases
      .map((alias) => `${alias.name} ${alias.type} ${alias.target}`)
      .sort();
    expect(list).toEqual([
      'debian/12 container new-squashfs',
      'debian/12 virtual-machine new-kvm',
      'debian/12/amd64 container new-squashfs',
      'debian/12/amd64 virtual-machine new-kvm',
      'debian/bookworm container new-squashfs',
      'debian/bookworm virtual-machine new-kvm',
      'debian/bookworm/amd64 container new-squashfs',
      'debian/bookworm/amd64 virtual-machine new-kvm',
    ]);
  });

  it('lets the first product in LXD order keep an alias two products claim', () => {
    const catalog = catalogOf({
      b: product('amd64', { [SERIAL]: fullVersion('b') }, { release: 'b', aliases: 'same,b' }),
      a: product('amd64', { [SERIAL]: fullVersion('a') }, { release: 'a', aliases: 'same' }),
    });
    expect(byFingerprint(catalog, 'a-squashfs').aliases.map((alias) => alias.name)).toEqual([
      'same',
      'same/amd64',
    ]);
    expect(byFingerprint(catalog, 'b-squashfs').aliases.map((alias) => alias.name)).toEqual([
      'b',
      'b/amd64',
    ]);
  });

  it('drops the ubuntu/ prefix on cloud-images.ubuntu.com, as LXD does', () => {
    const products = {
      p: product(
        'amd64',
        { [SERIAL]: fullVersion('u') },
        { os: 'ubuntu', aliases: 'ubuntu/22.04,jammy' },
      ),
    };
    const names = (url: string) =>
      catalogOf(products, { ...HOST, url }).images[0]?.aliases.map((alias) => alias.name);
    expect(names('https://cloud-images.ubuntu.com/releases')).toEqual([
      '22.04',
      '22.04/amd64',
      'jammy',
      'jammy/amd64',
    ]);
    expect(names('https://images.example.org')).toEqual([
      'ubuntu/22.04',
      'ubuntu/22.04/amd64',
      'jammy',
      'jammy/amd64',
    ]);
  });

  it('sorts by os, release, variant, newest serial, architecture (empty values last)', () => {
    const catalog = catalogOf({
      z: product('amd64', { [SERIAL]: fullVersion('z') }, { os: 'Zeta' }),
      arm: product('arm64', { [SERIAL]: fullVersion('arm') }),
      amd: product('amd64', { [SERIAL]: fullVersion('amd') }),
      cloud: product('amd64', { [SERIAL]: fullVersion('cloud') }, { variant: 'cloud' }),
      none: product('amd64', { [SERIAL]: fullVersion('none') }, { variant: '' }),
    });
    expect(squashfsOrder(catalog)).toEqual([
      'cloud-squashfs',
      'amd-squashfs',
      'arm-squashfs',
      'none-squashfs',
      'z-squashfs',
    ]);
  });

  it("orders names beyond U+FFFF as Go does (by UTF-8 bytes), not by JavaScript's UTF-16 units", () => {
    // U+FF21 is EF BC A1 in UTF-8 and U+1F600 is F0 9F 98 80: Go puts U+FF21 first, while
    // JavaScript's < puts U+1F600 first (its first unit, 0xD83D, is below 0xFF21).
    const catalog = catalogOf({
      emoji: product('amd64', { [SERIAL]: fullVersion('emoji') }, { os: 'OS\u{1F600}' }),
      wide: product('amd64', { [SERIAL]: fullVersion('wide') }, { os: 'OS\uFF21' }),
      plain: product('amd64', { [SERIAL]: fullVersion('plain') }, { os: 'OS~' }),
    });
    expect(squashfsOrder(catalog)).toEqual(['plain-squashfs', 'wide-squashfs', 'emoji-squashfs']);
  });
});

describe('parsing', () => {
  it('reads the index and keeps image-downloads entries only', () => {
    const index = parseIndex(
      JSON.stringify({
        format: 'index:1.0',
        index: {
          images: { datatype: 'image-downloads', path: 'streams/v1/images.json', products: ['a'] },
          other: { datatype: 'content-download', path: 'x.json', products: ['b'] },
        },
      }),
      'index.json',
    );
    expect(imageDownloadEntries(index)).toEqual([
      {
        name: 'images',
        datatype: 'image-downloads',
        path: 'streams/v1/images.json',
        products: ['a'],
      },
    ]);
  });

  it('names the file and the place when the JSON is invalid or of the wrong shape', () => {
    expect(() => parseIndex('<html>', 'https://x/streams/v1/index.json')).toThrow(
      /^https:\/\/x\/streams\/v1\/index\.json is not valid JSON: /,
    );
    expect(() => parseIndex('{"index": []}', 'i.json')).toThrow(
      'i.json is not a simplestreams index: index is an array, expected an object',
    );
    const bad = {
      products: { p: product('amd64', { [SERIAL]: { items: { x: { size: '12' } } } }) },
    };
    expect(() => parseProducts(JSON.stringify(bad), 'images.json')).toThrow(
      `images.json is not a simplestreams products file: products.p.versions["${SERIAL}"].items.x.size is the string "12", expected a whole number`,
    );
    expect(() => parseProducts('[1]', 'images.json')).toThrow(
      'images.json is not a simplestreams products file: the file is an array, expected an object',
    );
    // Go leaves null fields at their zero value.
    expect(parseProducts('{"products": null}', 'images.json')).toEqual([]);
  });

  it('parses a 10,000-version catalog quickly', () => {
    const generated = generateCatalog({ products: 500, versionsPerProduct: 20, realImage: false });
    const index = generated.files.get('streams/v1/index.json');
    const products = generated.files.get('streams/v1/images.json');
    if (index === undefined || products === undefined) throw new Error('generator output');
    const start = performance.now();
    const entries = imageDownloadEntries(parseIndex(index, 'index.json'));
    const catalog = buildCatalog([parseProducts(products, 'images.json')], HOST);
    const elapsed = performance.now() - start;
    console.log(
      `simplestreams: parsed ${generated.versions} versions (${(products.length / 1e6).toFixed(1)} MB) into ${catalog.images.length} images and ${catalog.aliases.length} aliases in ${elapsed.toFixed(0)} ms`,
    );
    expect(entries).toHaveLength(1);
    expect(generated.versions).toBe(10_000);
    expect(elapsed).toBeLessThan(5_000);
  });
});
