import { describe, expect, it } from 'vitest';
import { decodeTrustToken, normalizeLxdAddress, normalizeSimplestreamsAddress } from './trust.js';

describe('normalizeLxdAddress (as lxc remote add reads an address)', () => {
  it.each([
    ['10.0.0.2', 'https://10.0.0.2:8443'],
    ['10.0.0.2:9443', 'https://10.0.0.2:9443'],
    ['https://lxd.example.com', 'https://lxd.example.com:8443'],
    ['https://lxd.example.com:443', 'https://lxd.example.com:443'],
    ['https://lxd.example.com:8443/1.0', 'https://lxd.example.com:8443'],
    ['[fd00::2]', 'https://[fd00::2]:8443'],
    ['[fd00::2]:9000', 'https://[fd00::2]:9000'],
    ['  host  ', 'https://host:8443'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeLxdAddress(input)).toBe(expected);
  });

  it('refuses what is not an https LXD address, saying why', () => {
    expect(() => normalizeLxdAddress('http://host')).toThrow(/over https:\/\/, not http:/);
    expect(() => normalizeLxdAddress('unix:///var/lib/lxd/unix.socket')).toThrow(/local remote/);
    expect(() => normalizeLxdAddress('https://exa mple')).toThrow(/not a host name/);
  });
});

describe('normalizeSimplestreamsAddress', () => {
  it('keeps the path and refuses plain http, like lxc', () => {
    expect(normalizeSimplestreamsAddress('https://cloud-images.ubuntu.com/releases/')).toBe(
      'https://cloud-images.ubuntu.com/releases',
    );
    expect(() => normalizeSimplestreamsAddress('http://images.example.com')).toThrow(/https/);
  });
});

describe('decodeTrustToken', () => {
  const encode = (fields: Record<string, unknown>) =>
    Buffer.from(JSON.stringify(fields)).toString('base64');
  const valid = {
    client_name: 'laptop',
    fingerprint: 'ab'.repeat(32),
    addresses: ['10.0.0.2:8443'],
    secret: 'cd'.repeat(32),
    expires_at: '0001-01-01T00:00:00Z',
  };

  it('reads what lxc config trust add prints; the zero time is no expiry', () => {
    expect(decodeTrustToken(`  ${encode(valid)}\n`)).toMatchObject({
      clientName: 'laptop',
      fingerprint: valid.fingerprint,
      addresses: ['10.0.0.2:8443'],
      expiresAt: undefined,
    });
  });

  it('refuses an expired token and anything that is not a token', () => {
    expect(() =>
      decodeTrustToken(encode({ ...valid, expires_at: '2020-01-01T00:00:00Z' })),
    ).toThrow(/expired on 2020-01-01/);
    expect(() => decodeTrustToken('hello')).toThrow(/not an LXD trust token/);
    expect(() => decodeTrustToken(encode({ ...valid, fingerprint: 'xyz' }))).toThrow(
      /not an LXD trust token/,
    );
  });
});
