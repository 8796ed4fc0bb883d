import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClientIdentity, plaintextCodec, type SecretCodec } from './identity.js';
import { scratchDirs } from '../../scripts/testing/scratch-dirs.js';

/** Stands in for Electron's safeStorage, which needs the Electron runtime: a reversible seal. */
const sealingCodec: SecretCodec = {
  encrypted: true,
  encrypt: (plain) => Buffer.from(`sealed:${Buffer.from(plain).toString('base64')}`),
  decrypt: (sealed) => {
    const text = sealed.toString();
    if (!text.startsWith('sealed:')) throw new Error('not sealed by this keyring');
    return Buffer.from(text.slice(7), 'base64').toString();
  },
};

const scratch = scratchDirs();
const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

describe('ClientIdentity', () => {
  it('makes one certificate, keeps the key sealed at rest with 0600 files, and reads it back', async () => {
    const dir = await scratch('hangar-identity-');
    const identity = new ClientIdentity(dir, sealingCodec);
    expect(await identity.load()).toBeUndefined();
    const [first, second] = await Promise.all([identity.ensure(), identity.ensure()]);
    expect(second).toEqual(first);
    expect(new X509Certificate(first.certificate).subject).toMatch(/CN=hangar-/);

    expect((await readdir(dir)).sort()).toEqual(['client.crt', 'client.key.enc']);
    const sealed = await readFile(join(dir, 'client.key.enc'), 'utf8');
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(await mode(join(dir, 'client.key.enc'))).toBe('600');
    expect(await mode(join(dir, 'client.crt'))).toBe('600');
    expect(await mode(dir)).toBe('700');

    const reopened = await new ClientIdentity(dir, sealingCodec).load();
    expect(reopened).toEqual(first);
  });

  it('without a keyring keeps a 0600 plaintext key, as lxc does, and says so', async () => {
    const dir = await scratch('hangar-identity-');
    const codec = plaintextCodec('no keyring here');
    const made = await new ClientIdentity(dir, codec).ensure();
    expect(await readFile(join(dir, 'client.key'), 'utf8')).toBe(made.key);
    expect(await mode(join(dir, 'client.key'))).toBe('600');
    expect(codec).toMatchObject({ encrypted: false, notice: 'no keyring here' });
  });

  it('explains a sealed key that this session cannot open, rather than making a new identity', async () => {
    const dir = await scratch('hangar-identity-');
    await new ClientIdentity(dir, sealingCodec).ensure();
    const web = new ClientIdentity(dir, plaintextCodec('web mode'));
    await expect(web.load()).rejects.toThrow(/encrypted with the desktop keyring.*web mode/);
    await expect(web.ensure()).rejects.toThrow(/encrypted with the desktop keyring/);
  });

  it('refuses to adopt a certificate whose key does not match', async () => {
    const dir = await scratch('hangar-identity-');
    const a = await new ClientIdentity(await scratch('a-'), sealingCodec).ensure();
    const b = await new ClientIdentity(await scratch('b-'), sealingCodec).ensure();
    await expect(
      new ClientIdentity(dir, sealingCodec).adopt(
        { certificate: a.certificate, key: b.key },
        '/lxc',
      ),
    ).rejects.toThrow(/client certificate in \/lxc is unusable: the key does not match/);
    expect(await readdir(dir).catch(() => [])).toEqual([]);
  });
});
