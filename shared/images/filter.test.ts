import { describe, expect, it } from 'vitest';
import { dotPrefixMatch, filterImages, parseFilter } from './filter.js';

const image = (
  fingerprint: string,
  aliases: string[],
  properties: Record<string, string>,
  architecture = 'x86_64',
) => ({
  fingerprint,
  aliases: aliases.map((name) => ({ name, description: '' })),
  properties,
  architecture,
  type: 'container' as const,
  filename: `${aliases[0] ?? fingerprint}.tar.xz`,
});

const busybox = image('74186c79ca2f0000', ['busybox-amd64'], {
  os: 'Busybox',
  description: 'Busybox x86_64',
  architecture: 'x86_64',
});
const wily = image('d3703a994910aaaa', ['w', '15.10', 'wily/amd64'], {
  os: 'ubuntu',
  release: 'wily',
  description: 'ubuntu 15.10 amd64 (release) (20160315)',
  architecture: 'amd64',
  'user.note': 'café crème',
});
const trusty = image('75182b1241beffff', [], {
  os: 'ubuntu',
  release: 'trusty',
  architecture: 'amd64',
});
const alpine = image(
  '6d9c131efab3bbbb',
  ['alpine-32'],
  {
    os: 'Alpine',
    release: 'edge',
    architecture: 'i386',
  },
  'i686',
);
const all = [busybox, wily, trusty, alpine];
const keys = (terms: string[]) => filterImages(all, terms).map((i) => i.fingerprint.slice(0, 12));

describe('lxc image list filters', () => {
  it('shows everything without terms', () => {
    expect(filterImages(all, [])).toBe(all);
  });

  it('matches a bare term as a substring of an alias or of the fingerprint', () => {
    // The seed's example: `lxc image list amd64` matches busybox-amd64 and wily/amd64.
    expect(keys(['amd64'])).toEqual(['74186c79ca2f', 'd3703a994910']);
    expect(keys(['75182b'])).toEqual(['75182b1241be']);
    expect(keys(['b1241'])).toEqual(['75182b1241be']);
  });

  it('is case-sensitive for bare terms', () => {
    expect(keys(['AMD64'])).toEqual([]);
  });

  it('does not match bare terms against properties or descriptions', () => {
    expect(keys(['Busybox'])).toEqual([]);
    expect(keys(['trusty'])).toEqual([]);
  });

  it('matches key=value against properties, the whole value, case-sensitively', () => {
    expect(keys(['os=ubuntu'])).toEqual(['d3703a994910', '75182b1241be']);
    expect(keys(['os=ubu'])).toEqual([]);
    expect(keys(['os=Ubuntu'])).toEqual([]);
  });

  it('treats the value as an anchored regular expression', () => {
    expect(keys(['os=ubu.*'])).toEqual(['d3703a994910', '75182b1241be']);
    expect(keys(['release=(wily|edge)'])).toEqual(['d3703a994910', '6d9c131efab3']);
    // With ^ or $ the user anchors it themself.
    expect(keys(['description=^ubuntu'])).toEqual(['d3703a994910']);
    expect(keys(['description=x86_64$'])).toEqual(['74186c79ca2f']);
  });

  it('compares literally when the value is not a valid expression', () => {
    const odd = image('0000aaaa1111', [], { label: 'a(b' });
    expect(filterImages([odd, busybox], ['label=a(b'])).toEqual([odd]);
  });

  it('matches keys piece by piece as prefixes (dotPrefixMatch)', () => {
    expect(keys(['u.n=café crème'])).toEqual(['d3703a994910']);
    expect(keys(['user.note=café.*'])).toEqual(['d3703a994910']);
    expect(keys(['rel=trusty'])).toEqual(['75182b1241be']);
    expect(dotPrefixMatch('user', 'user.note')).toBe(false);
    expect(dotPrefixMatch('us.no', 'user.note')).toBe(true);
    expect(dotPrefixMatch('', 'os')).toBe(true);
  });

  it('matches image fields, not properties, for keys that name a field (server-side in lxc)', () => {
    // wily and trusty have the property architecture=amd64, yet lxc 5.0 matches the field.
    expect(keys(['architecture=amd64'])).toEqual([]);
    expect(keys(['architecture=x86_64'])).toEqual(['74186c79ca2f', 'd3703a994910', '75182b1241be']);
    expect(keys(['architecture=i686'])).toEqual(['6d9c131efab3']);
    // Case-insensitive regular expressions, with the same anchoring rule.
    expect(keys(['architecture=I686'])).toEqual(['6d9c131efab3']);
    expect(keys(['architecture=i6'])).toEqual([]);
    expect(keys(['architecture=^i6'])).toEqual(['6d9c131efab3']);
    expect(keys(['type=CONTAINER'])).toHaveLength(4);
    expect(keys(['filename=ALPINE-32\\.tar\\.xz'])).toEqual(['6d9c131efab3']);
    expect(keys(['fingerprint=75182B1241BE.*'])).toEqual(['75182b1241be']);
  });

  it('never matches fields LXD 5.0 cannot compare (booleans, numbers, dates, lists)', () => {
    for (const term of [
      'public=false',
      'size=0',
      'cached=false',
      'aliases=w',
      'profiles=default',
      'properties.os=ubuntu',
    ]) {
      expect(keys([term])).toEqual([]);
    }
  });

  it('requires every term to match', () => {
    expect(keys(['os=ubuntu', 'release=wily'])).toEqual(['d3703a994910']);
    expect(keys(['os=ubuntu', 'amd64'])).toEqual(['d3703a994910']);
    expect(keys(['os=ubuntu', 'alpine'])).toEqual([]);
  });

  it('matches an empty value only to empty properties', () => {
    const empty = image('0000bbbb2222', [], { note: '' });
    expect(filterImages([empty, busybox], ['note='])).toEqual([empty]);
  });
});

describe('splitting the filter box into terms', () => {
  it('splits on whitespace and keeps quoted spaces', () => {
    expect(parseFilter('  os=ubuntu   amd64 ')).toEqual(['os=ubuntu', 'amd64']);
    expect(parseFilter('description="ubuntu 15.10 amd64.*" w')).toEqual([
      'description=ubuntu 15.10 amd64.*',
      'w',
    ]);
    expect(parseFilter("note='a  b'")).toEqual(['note=a  b']);
    expect(parseFilter('""')).toEqual(['']);
    expect(parseFilter('')).toEqual([]);
  });
});
