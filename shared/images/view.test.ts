import { describe, expect, it } from 'vitest';
import type { LxdImage } from '../lxd.js';
import { filterImages, parseFilter } from './filter.js';
import { indexImages, LXC_SORT, type ImageSort } from './view.js';

let serial = 0;
const image = (
  alias: string | undefined,
  size: number,
  properties: Record<string, string> = {},
  uploaded = '2024-01-01T00:00:00Z',
): LxdImage => {
  serial += 1;
  const fingerprint = serial.toString(16).padStart(4, '0').repeat(16);
  return {
    fingerprint,
    aliases: alias === undefined ? [] : [{ name: alias, description: '' }],
    properties,
    architecture: 'x86_64',
    type: 'container',
    filename: '',
    size,
    public: false,
    auto_update: false,
    cached: false,
    created_at: uploaded,
    uploaded_at: uploaded,
    expires_at: '0001-01-01T00:00:00Z',
    last_used_at: '0001-01-01T00:00:00Z',
    profiles: [],
  };
};

const debian = image('debian/12', 300, { os: 'debian', description: 'Debian 12' });
const alpine = image('alpine/3.20', 100, { os: 'alpine' }, '2024-06-01T00:00:00Z');
const bare1 = image(undefined, 200, { os: 'debian' });
const bare2 = image(undefined, 200, { os: 'debian' });
const ubuntu = image('ubuntu/24.04', 100, { os: 'ubuntu' }, '2023-01-01T00:00:00Z');
const all = [debian, alpine, bare1, bare2, ubuntu];
const index = indexImages(all);
const aliasesOf = (positions: Int32Array) =>
  [...positions].map((position) => index.rows[position]?.alias ?? '?');
const fingerprintsOf = (positions: Int32Array) =>
  [...positions].map((position) => index.rows[position]?.fingerprint ?? '?');
const sorted = (sort: ImageSort, filter = '') => index.match(filter, sort);

describe('a list indexed for the table', () => {
  it("holds rows in lxc image list's order: by ALIAS text, then FINGERPRINT", () => {
    expect(index.rows.map((row) => row.alias)).toEqual([
      '',
      '',
      'alpine/3.20',
      'debian/12',
      'ubuntu/24.04',
    ]);
    expect(index.rows[0]?.fingerprint).toBe(bare1.fingerprint);
    expect(sorted(LXC_SORT)).toEqual(Int32Array.from([0, 1, 2, 3, 4]));
  });

  it('sorts by magnitude for size and date, keeping lxc order among equals in both directions', () => {
    expect(aliasesOf(sorted({ column: 'sizeBytes', desc: false }))).toEqual([
      'alpine/3.20',
      'ubuntu/24.04',
      '',
      '',
      'debian/12',
    ]);
    const descending = sorted({ column: 'sizeBytes', desc: true });
    expect(aliasesOf(descending)).toEqual(['debian/12', '', '', 'alpine/3.20', 'ubuntu/24.04']);
    // The two 200-byte images stay in lxc's order (bare1 first) when descending, as a stable sort gives.
    expect(fingerprintsOf(descending).slice(1, 3)).toEqual([bare1.fingerprint, bare2.fingerprint]);
    expect(aliasesOf(sorted({ column: 'uploadedAt', desc: true }))[0]).toBe('alpine/3.20');
    expect(aliasesOf(sorted({ column: 'alias', desc: true }))).toEqual([
      'ubuntu/24.04',
      'debian/12',
      'alpine/3.20',
      '',
      '',
    ]);
  });

  it("filters with lxc's semantics and keeps the sort's order", () => {
    expect(aliasesOf(sorted(LXC_SORT, 'os=debian'))).toEqual(['', '', 'debian/12']);
    expect(aliasesOf(sorted({ column: 'sizeBytes', desc: true }, 'os=debian'))).toEqual([
      'debian/12',
      '',
      '',
    ]);
    // Bare terms are substrings of an alias (case-sensitive); several terms are AND-ed.
    expect(aliasesOf(sorted(LXC_SORT, 'u'))).toEqual(['ubuntu/24.04']);
    expect(aliasesOf(sorted(LXC_SORT, 'os=debian 12'))).toEqual(['debian/12']);
    expect(aliasesOf(sorted(LXC_SORT, 'Debian'))).toEqual([]);
    // The same filter asked again is the same answer.
    expect(sorted(LXC_SORT, 'os=debian')).toBe(sorted(LXC_SORT, 'os=debian'));
  });

  it('matches as lxc does: a bare term inside the fingerprint or one alias name (never across two), key=value on fields and properties', () => {
    const twoAliases = {
      ...image('ab', 1),
      aliases: [
        { name: 'ab', description: '' },
        { name: 'cd', description: '' },
      ],
    };
    const list = [...all, twoAliases];
    const both = indexImages(list);
    // Made ahead in slices (as a window does with its copy): the same matches.
    const prepared = indexImages(list);
    expect([...prepared.preparing(2)]).toHaveLength(3);
    const fingerprintEnd = twoAliases.fingerprint.slice(-3);
    for (const filter of [
      'b',
      'cd',
      'bc',
      `${fingerprintEnd}ab`,
      fingerprintEnd,
      'b\0c',
      '"" d',
      'os=debian 1',
      'ab cd',
      'o=debian',
      'os=deb.*',
      '"description=Debian 12"',
      'os=[',
      'architecture=X86_64',
      'size=1',
    ]) {
      const expected = filterImages(list, parseFilter(filter)).map((entry) => entry.fingerprint);
      const found = [...both.match(filter, LXC_SORT)].map((at) => both.rows[at]?.fingerprint);
      expect(found.sort(), filter).toEqual(expected.sort());
      const ahead = [...prepared.match(filter, LXC_SORT)].map(
        (at) => prepared.rows[at]?.fingerprint,
      );
      expect(ahead.sort(), `${filter} (prepared)`).toEqual(expected.sort());
    }
    expect(both.match('bc', LXC_SORT)).toHaveLength(0);
    expect(both.match('ab cd', LXC_SORT)).toHaveLength(1);
  });

  it('answers a window with the counts, and where an image is among the matches', () => {
    const view = index.window({
      filter: 'os=debian',
      sort: { column: 'sizeBytes', desc: true },
      offset: 1,
      limit: 1,
      find: bare2.fingerprint,
    });
    expect(view).toMatchObject({ total: 5, matched: 3, offset: 1, found: 2 });
    expect(view.rows.map((row) => row.fingerprint)).toEqual([bare1.fingerprint]);
    // A row has the table's columns only: no whole image goes to the window.
    expect(Object.keys(view.rows[0] ?? {})).not.toContain('image');
    expect(Object.keys(view.rows[0] ?? {})).not.toContain('properties');
    // Not among the matches.
    expect(
      index.window({
        filter: 'os=alpine',
        sort: LXC_SORT,
        offset: 0,
        limit: 10,
        find: debian.fingerprint,
      }).found,
    ).toBe(-1);
  });

  it('moves an offset past the end back to the last rows', () => {
    const view = index.window({ filter: '', sort: LXC_SORT, offset: 100, limit: 2 });
    expect(view.offset).toBe(3);
    expect(view.rows.map((row) => row.alias)).toEqual(['debian/12', 'ubuntu/24.04']);
    expect(index.window({ filter: 'nothing', sort: LXC_SORT, offset: 5, limit: 2 })).toMatchObject({
      matched: 0,
      offset: 0,
      rows: [],
    });
  });

  it('gives the fingerprints of a range of matches, for Shift+click and Ctrl+A', () => {
    expect(index.fingerprints('os=debian', LXC_SORT, 1, 2)).toEqual([
      bare2.fingerprint,
      debian.fingerprint,
    ]);
    expect(index.fingerprints('', LXC_SORT, 0, 99)).toHaveLength(5);
    expect(index.fingerprints('', LXC_SORT, 3, 2)).toEqual([]);
  });

  it('finds whole images by fingerprint, and counts those with an update source', () => {
    expect(index.image(alpine.fingerprint)).toBe(alpine);
    expect(index.image('f'.repeat(64))).toBeUndefined();
    expect(index.withSources).toBe(0);
    const sourced = indexImages([
      {
        ...debian,
        update_source: {
          server: 'https://images',
          protocol: 'simplestreams',
          alias: 'd',
          certificate: '',
          image_type: '',
        },
      },
      alpine,
    ]);
    expect(sourced.withSources).toBe(1);
  });
});
