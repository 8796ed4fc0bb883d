import { describe, expect, it } from 'vitest';
import type { LxdImage } from '../lxd.js';
import { filterImages, parseFilter } from './filter.js';
import { decodeChunk, encodeChunk, type ListChunk, type ListedImage } from './listed.js';
import { ImageListIndex, indexImages, type ImageSort } from './view.js';

const image = (
  n: number,
  aliases: string[],
  properties: Record<string, string>,
  extra: Partial<LxdImage> = {},
): LxdImage => ({
  fingerprint: n.toString(16).padStart(64, 'a'),
  aliases: aliases.map((name) => ({ name, description: `about ${name}` })),
  properties,
  architecture: n % 2 === 0 ? 'x86_64' : 'aarch64',
  type: n % 3 === 0 ? 'virtual-machine' : 'container',
  filename: `image-${n}.tar.xz`,
  size: 1000 * n + 7,
  public: n % 4 === 0,
  auto_update: false,
  cached: false,
  created_at: '2024-01-01T00:00:00Z',
  uploaded_at: `2024-0${1 + (n % 9)}-0${1 + (n % 7)}T10:20:30Z`,
  expires_at: '0001-01-01T00:00:00Z',
  last_used_at: '0001-01-01T00:00:00Z',
  profiles: [],
  ...extra,
});

const images: LxdImage[] = [];
for (let n = 1; n <= 40; n++)
  images.push(
    image(n, n % 5 === 0 ? [`debian/${n}`, `d${n}`] : [], {
      os: n % 2 === 0 ? 'Debian' : 'Alpine',
      release: `r${n % 3}`,
      description: `Image number ${n}`,
      ...(n === 7 ? { ['__proto__']: 'odd', 'user.note': 'x y' } : {}),
    }),
  );
// A property named __proto__, as LXD can send it (JSON.parse makes it an own property).
const odd = JSON.parse(
  JSON.stringify(image(41, ['odd'], { description: 'odd one' })).replace(
    '"properties":{',
    '"properties":{"__proto__":"yes",',
  ),
) as LxdImage;
images.push(odd);
const held = indexImages(images);

/** The copy a window makes: chunks of `size` sent as JSON, decoded and indexed. */
function copyOf(size: number): { copy: ImageListIndex<ListedImage>; chunks: ListChunk[] } {
  const chunks: ListChunk[] = [];
  for (let offset = 0; offset < held.size; offset += size)
    chunks.push(JSON.parse(JSON.stringify(encodeChunk(held, 3, offset, size))) as ListChunk);
  const parts = chunks.map(decodeChunk);
  return {
    copy: new ImageListIndex(
      parts.flatMap((part) => part.images),
      parts.flatMap((part) => part.rows),
    ),
    chunks,
  };
}

describe("a list's compact copy", () => {
  it('holds the same rows in the same order, whatever the chunk size', () => {
    for (const size of [1, 7, 100]) {
      const { copy, chunks } = copyOf(size);
      expect(copy.rows).toEqual(held.rows);
      expect(chunks.every((chunk) => chunk.version === 3 && chunk.total === held.size)).toBe(true);
      expect(chunks.map((chunk) => chunk.offset)).toEqual(chunks.map((_, index) => index * size));
    }
  });

  it('filters and sorts exactly as the held list does (and as lxc)', () => {
    const { copy } = copyOf(7);
    const sorts: ImageSort[] = [
      { column: 'alias', desc: false },
      { column: 'sizeBytes', desc: true },
      { column: 'uploadedAt', desc: false },
      { column: 'type', desc: true },
    ];
    for (const filter of [
      '',
      'debian',
      'd1',
      'aaa',
      'os=debian',
      'os=Debian release=r1',
      '__proto__=yes',
      '__proto__=odd',
      'u.n="x y"',
      'architecture=AARCH64',
      'type=virtual-machine',
      'filename=image-3.tar.xz',
      'description=Image.*4',
    ])
      for (const sort of sorts) {
        expect([...copy.match(filter, sort)], `${filter} ${sort.column}`).toEqual([
          ...held.match(filter, sort),
        ]);
        const expected = filterImages(images, parseFilter(filter)).map((one) => one.fingerprint);
        expect(copy.fingerprints(filter, sort, 0, 1000).sort()).toEqual(expected.sort());
      }
    expect(copy.match('__proto__=yes', { column: 'alias', desc: false })).toHaveLength(1);
  });

  it('sends each repeated string once, and no more of an image than the filter and the row need', () => {
    const chunk = encodeChunk(held, 1, 0, held.size);
    expect(chunk.strings.filter((text) => text === 'Debian')).toHaveLength(1);
    const text = JSON.stringify(chunk);
    // Alias descriptions, dates other than the upload date and the like stay in the main process.
    expect(text).not.toContain('about debian');
    expect(text).not.toContain('0001-01-01');
  });

  it('refuses a chunk that does not hold what it says', () => {
    const chunk = encodeChunk(held, 1, 0, 2);
    expect(() => decodeChunk({ ...chunk, data: chunk.data.slice(0, 5) })).toThrow(/ended/);
    expect(() => decodeChunk({ ...chunk, strings: [] })).toThrow(/does not hold/);
    expect(() => decodeChunk({ ...chunk, data: [1, ...chunk.data.slice(1)] })).toThrow(
      /fingerprint/,
    );
  });
});
