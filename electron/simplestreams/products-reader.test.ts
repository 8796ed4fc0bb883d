import { describe, expect, it } from 'vitest';
import { generateCatalog } from '../../scripts/simplestreams/catalog-generator.js';
import { catalogOf, fileImages, parseProducts, type CatalogOptions } from './catalog.js';
import { ProductsReader } from './products-reader.js';

const HOST: CatalogOptions = { url: 'https://images.example.org', hostArchitecture: 'x86_64' };

/** The file read whole, as before the reader: its catalog, or the error it gives. */
function whole(text: Buffer) {
  try {
    return catalogOf([fileImages(parseProducts(text, 'images.json'))], HOST);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The file pushed to a reader in pieces cut at `cuts`; its catalog, or undefined when it stopped. */
function streamed(text: Buffer, cuts: number[]) {
  const reader = new ProductsReader();
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    reader.push(text.subarray(from, cut));
    from = cut;
  }
  const images = reader.end();
  return images === undefined ? undefined : catalogOf([images], HOST);
}

/** A small deterministic random source, so a failure names a case that can be run again. */
function random(seed: number) {
  let state = seed;
  return (below: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % below;
  };
}

function randomCuts(length: number, seed: number, pieces: number): number[] {
  const next = random(seed);
  return Array.from({ length: pieces }, () => next(length + 1)).sort((a, b) => a - b);
}

const every = (length: number, size: number) =>
  Array.from({ length: Math.floor((length - 1) / size) }, (_, i) => (i + 1) * size);

const product = (extra: Record<string, unknown> = {}) => ({
  aliases: 'debian/12',
  arch: 'amd64',
  os: 'Debian',
  release: 'bookworm',
  release_title: 'bookworm',
  variant: 'default',
  versions: {
    '20240601_05:24': {
      items: {
        'lxd.tar.xz': {
          ftype: 'lxd.tar.xz',
          path: 'images/x/lxd.tar.xz',
          size: 10,
          sha256: 'meta',
          combined_squashfs_sha256: 'combined',
        },
        squashfs: { ftype: 'squashfs', path: 'images/x/root.squashfs', size: 20, sha256: 'root' },
      },
    },
  },
  ...extra,
});

describe('ProductsReader', () => {
  const generated = generateCatalog({ products: 12, versionsPerProduct: 3, edgeCases: true });
  const catalog = generated.files.get('streams/v1/images.json');
  if (catalog === undefined) throw new Error('generator output');

  it('makes the same catalog as the whole file, however the bytes arrive', () => {
    const expected = whole(catalog);
    expect(expected).not.toBeInstanceOf(Error);
    const cuttings = [
      [],
      every(catalog.length, 1),
      every(catalog.length, 7),
      every(catalog.length, 4096),
      ...[1, 2, 3, 4, 5].map((seed) => randomCuts(catalog.length, seed, 200)),
    ];
    for (const cuts of cuttings) expect(streamed(catalog, cuts)).toEqual(expected);
  });

  it('follows JSON.parse: index-like keys first, a repeated key keeps its place and last value', () => {
    // Tie-breaking in LXD's order and the aliases a product claims first both follow this order.
    const text = (products: string) =>
      Buffer.from(`{"format":"products:1.0","products":${products}}`);
    const a = JSON.stringify(product({ aliases: 'a' }));
    const b = JSON.stringify(product({ aliases: 'b' }));
    const c = JSON.stringify(product({ aliases: 'c' }));
    for (const products of [
      `{"z":${a},"10":${b},"2":${c}}`,
      `{"x":${a},"y":${b},"x":${c}}`,
      `{"4294967295":${a},"4294967294":${b},"01":${c}}`,
      `{"__proto__":${a},"y":${b}}`,
    ]) {
      const file = text(products);
      expect(streamed(file, every(file.length, 5))).toEqual(whole(file));
    }
  });

  it('reads every value JSON allows: escapes, quotes and braces in strings, numbers cut anywhere', () => {
    const tricky = product({
      os: 'De"bi}an\\',
      release: 'book{worm] \\"',
      release_title: 'b\u00e9\u{1F600}',
      variant: '\\\\',
      lxd_requirements: { secureboot: 'false', 'key"x': '{[' },
    });
    const text = Buffer.from(
      ` \r\n\t{ "products" : { "p\\"1" : ${JSON.stringify(tricky)} , "p2":${JSON.stringify(product())} } ,\n"updated" : "x", "extra": [1, 2.5e3, -0, true, false, null, {"a":[]}] }  \n`,
    );
    const expected = whole(text);
    expect(expected).not.toBeInstanceOf(Error);
    for (const cuts of [
      every(text.length, 1),
      every(text.length, 3),
      randomCuts(text.length, 9, 40),
    ])
      expect(streamed(text, cuts)).toEqual(expected);
  });

  it('gives the file up (to be read whole) when it is not a products file JSON.parse and LXD accept', () => {
    const good = JSON.stringify({ products: { p: product() } });
    const bad = [
      `${good} x`,
      `${good}}`,
      `\uFEFF${good}`,
      good.slice(0, -1),
      good.replace('"products":', '"products"'),
      good.replace('}}', '},}}'),
      '{"products": {"p": 1 2}}',
      '{"products": []}',
      '{"products": "x"}',
      '{"products": {"p": []}}',
      '{"products": {"p": {"arch": 5}}}',
      '{"content_id": 5, "products": {}}',
      '[1]',
      '',
      '{"products": {"p": tru}}',
      '{"products": {"p": {"versions": {"x": {"items": {"i": {"size": "12"}}}}}}}',
    ];
    for (const text of bad) {
      const file = Buffer.from(text);
      expect(whole(file), text).toBeInstanceOf(Error);
      for (const cuts of [[], every(file.length, 1)])
        expect(streamed(file, cuts), text).toBeUndefined();
    }
  });

  it('never accepts a file the whole-file reading refuses, nor answers differently (mutated files)', () => {
    const base = Buffer.from(
      JSON.stringify({
        format: 'products:1.0',
        products: { p: product(), '7': product({ aliases: 'q' }) },
      }),
    );
    const next = random(42);
    const alphabet = Buffer.from('{}[]",:\\ 0a-e');
    for (let round = 0; round < 400; round++) {
      const bytes = [...base];
      const at = next(bytes.length);
      const change = next(3);
      if (change === 0) bytes.splice(at, 1);
      else if (change === 1) bytes.splice(at, 0, alphabet[next(alphabet.length)] ?? 0);
      else bytes[at] = alphabet[next(alphabet.length)] ?? 0;
      const file = Buffer.from(bytes);
      const expected = whole(file);
      const got = streamed(file, randomCuts(file.length, round, 6));
      if (expected instanceof Error) expect(got, file.toString()).toBeUndefined();
      else if (got !== undefined) expect(got, file.toString()).toEqual(expected);
    }
  });

  it('reads a file with no products, or null ones, as an empty catalog', () => {
    for (const text of [
      '{}',
      '{"products": null}',
      '{"products": {}}',
      '{"products": {"p": {}}, "products": null}',
    ])
      expect(streamed(Buffer.from(text), [1])).toEqual({ images: [], aliases: [] });
  });
});
