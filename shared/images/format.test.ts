import { describe, expect, it } from 'vitest';
import type { LxdImage } from '../lxd.js';
import {
  aliasCell,
  compareListRows,
  infoDate,
  listDate,
  sizeCell,
  toImageInfo,
  toImageRow,
  typeCell,
} from './format.js';

const image: LxdImage = {
  fingerprint: 'e51041ab44b8c2a1d7f0a4a0d9a3e2b1c0f9e8d7c6b5a4938271605f4e3d2c1b',
  filename: 'multi.tar.gz',
  size: 153_350_000,
  architecture: 'x86_64',
  public: false,
  auto_update: true,
  cached: true,
  type: 'virtual-machine',
  created_at: '2016-03-15T00:00:00Z',
  uploaded_at: '2016-03-30T04:31:00Z',
  expires_at: '1970-01-01T00:00:00Z',
  last_used_at: '0001-01-01T00:00:00Z',
  properties: {
    os: 'ubuntu',
    description: 'ubuntu 15.10 amd64 (release) (20160315)',
    architecture: 'amd64',
  },
  aliases: [
    { name: 'w', description: '' },
    ...Array.from({ length: 11 }, (_, i) => ({ name: `alias-${i}`, description: 'more' })),
  ],
  profiles: ['default'],
  update_source: {
    alias: '15.10',
    certificate: '',
    protocol: 'simplestreams',
    server: 'https://cloud-images.ubuntu.com/releases',
  },
};

describe('lxc image list columns', () => {
  it('shows the first alias and how many more, as "w (11 more)"', () => {
    expect(aliasCell(image)).toBe('w (11 more)');
    expect(aliasCell({ aliases: [{ name: 'solo', description: '' }] })).toBe('solo');
    expect(aliasCell({ aliases: [] })).toBe('');
  });

  it('shows the shortest alias, the earliest of equals, as lxc does', () => {
    const aliases = (...names: string[]) => ({
      aliases: names.map((name) => ({ name, description: '' })),
    });
    expect(aliasCell(aliases('ubuntu/24.04', 'noble', 'lts'))).toBe('lts (2 more)');
    expect(aliasCell(aliases('abc', 'xyz'))).toBe('abc (1 more)');
  });

  it('orders rows like lxc: by the text of each column in turn', () => {
    const row = (alias: string, fingerprint: string) =>
      toImageRow(
        { ...image, aliases: alias === '' ? [] : [{ name: alias, description: '' }], fingerprint },
        'UTC',
      );
    const rows = [row('b', 'aa'), row('', 'ff'), row('a', 'zz'), row('', '00')].sort(
      compareListRows,
    );
    expect(rows.map((r) => [r.alias, r.fingerprint])).toEqual([
      ['', '00'],
      ['', 'ff'],
      ['a', 'zz'],
      ['b', 'aa'],
    ]);
  });

  it('prints sizes in MB with two decimals as LXD 5.0 does', () => {
    expect(sizeCell(300)).toBe('0.00MB');
    expect(sizeCell(243_793_920)).toBe('232.50MB');
  });

  it('upper-cases the type', () => {
    expect(typeCell('container')).toBe('CONTAINER');
    expect(typeCell('virtual-machine')).toBe('VIRTUAL-MACHINE');
  });

  it('formats the upload date with Go layout "Jan 2, 2006 at 3:04pm (MST)"', () => {
    expect(listDate('2016-03-30T04:36:00Z', 'UTC')).toBe('Mar 30, 2016 at 4:36am (UTC)');
    expect(listDate('2016-03-30T16:05:00Z', 'UTC')).toBe('Mar 30, 2016 at 4:05pm (UTC)');
    expect(listDate('2016-03-30T00:05:00Z', 'UTC')).toBe('Mar 30, 2016 at 12:05am (UTC)');
  });

  it('builds a row with the 12-character fingerprint and sortable raw values', () => {
    const row = toImageRow(image, 'UTC');
    expect(row.shortFingerprint).toBe('e51041ab44b8');
    expect(row.public).toBe('no');
    expect(row.description).toBe('ubuntu 15.10 amd64 (release) (20160315)');
    expect(row.sizeBytes).toBe(153_350_000);
    expect(row.uploadedAt).toBe(Date.parse('2016-03-30T04:31:00Z'));
  });
});

describe('lxc image info', () => {
  it('says "never" for LXD zero times and uses Go layout "2006/01/02 15:04 MST"', () => {
    expect(infoDate('0001-01-01T00:00:00Z', 'UTC')).toBe('never');
    expect(infoDate('1970-01-01T00:00:00Z', 'UTC')).toBe('never');
    expect(infoDate('2016-03-16T05:50:00Z', 'UTC')).toBe('2016/03/16 05:50 UTC');
  });

  it('lists everything lxc image info shows, properties sorted by key', () => {
    const info = toImageInfo(image, 'UTC');
    expect(info.timestamps).toEqual([
      { label: 'Created', value: '2016/03/15 00:00 UTC' },
      { label: 'Uploaded', value: '2016/03/30 04:31 UTC' },
      { label: 'Expires', value: 'never' },
      { label: 'Last used', value: 'never' },
    ]);
    expect(info.properties.map(([key]) => key)).toEqual(['architecture', 'description', 'os']);
    expect(info.type).toBe('virtual-machine');
    expect(info.cached).toBe('yes');
    expect(info.autoUpdate).toBe('enabled');
    expect(info.aliases).toHaveLength(12);
    expect(info.source).toEqual({
      server: 'https://cloud-images.ubuntu.com/releases',
      protocol: 'simplestreams',
      alias: '15.10',
    });
    expect(info.profiles).toEqual(['default']);
  });

  it('leaves out an unknown creation date, as lxc does', () => {
    const labels = toImageInfo({ ...image, created_at: '0001-01-01T00:00:00Z' }).timestamps.map(
      (t) => t.label,
    );
    expect(labels).toEqual(['Uploaded', 'Expires', 'Last used']);
  });

  it('prints dates in UTC by default, like lxc', () => {
    expect(listDate('2016-03-30T23:30:00Z')).toBe('Mar 30, 2016 at 11:30pm (UTC)');
    expect(infoDate('2016-03-30T23:30:00Z')).toBe('2016/03/30 23:30 UTC');
  });

  it('has no source for an image that was not copied from a remote', () => {
    expect(toImageInfo({ ...image, update_source: undefined }).source).toBeUndefined();
  });
});

describe('dates in UTC', () => {
  it('print as Intl prints them in UTC, without Intl', () => {
    // Etc/UTC goes through Intl; UTC takes the direct path: they agree on every kind of time.
    for (let i = 0; i < 2000; i++) {
      const time = new Date(
        Date.UTC(1990, 0, 1) + Math.floor(Math.random() * 60 * 365 * 86_400_000),
      );
      const value = time.toISOString();
      expect(listDate(value, 'UTC')).toBe(listDate(value, 'Etc/UTC'));
      expect(infoDate(value, 'UTC')).toBe(infoDate(value, 'Etc/UTC'));
    }
  });
});
