/**
 * Adding, using and losing LXD remotes against a real second daemon: trust
 * tokens, public access, pinned certificates, revoked trust, and the
 * specific error of every bad input.
 */
import { execFile } from 'node:child_process';
import { stat, readFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { EventMessage, RemoteStatus } from '../../shared/contract.js';
import type { Envelope } from '../../shared/errors.js';
import type { LxdImage } from '../../shared/lxd.js';
import { dispatch } from '../dispatch.js';
import { createHangar, type Hangar } from '../hangar.js';
import { createSelfSignedCertificate } from '../tls/certificate.js';
import { trustToken } from '../../scripts/sandbox/trust-token.js';
import { plaintextCodec } from './identity.js';
import { scratchDirs } from '../../scripts/testing/scratch-dirs.js';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const remoteUrl = `https://${sandbox.remoteHttps}`;
const scratch = scratchDirs();
const opened: Hangar[] = [];
afterAll(async () => {
  await Promise.all(opened.map((hangar) => hangar.close()));
});

/** `lxc` on the second daemon, as its administrator. */
async function onServer(...args: string[]): Promise<string> {
  const { stdout } = await run('lxc', args, {
    env: { ...process.env, LXD_DIR: sandbox.remoteDir },
  });
  return stdout.trim();
}

const newToken = (name: string) => trustToken(sandbox.remoteDir, name);

async function open(
  dataDir?: string,
): Promise<{ hangar: Hangar; messages: EventMessage[]; dataDir: string }> {
  const dir = dataDir ?? (await scratch('hangar-remotes-'));
  const hangar = await createHangar({
    env: { LXD_DIR: sandbox.localDir, HOME: dir },
    dataDir: dir,
    secrets: plaintextCodec('test'),
    retryMs: 200,
  });
  opened.push(hangar);
  const messages: EventMessage[] = [];
  hangar.events.subscribe((message) => messages.push(message));
  return { hangar, messages, dataDir: dir };
}

async function call<T>(hangar: Hangar, name: string, input: unknown): Promise<T> {
  const envelope = (await dispatch(hangar.handlers, name, input)) as Envelope<T>;
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

async function fails(hangar: Hangar, name: string, input: unknown) {
  const envelope = await dispatch(hangar.handlers, name, input);
  expect(envelope.ok).toBe(false);
  if (envelope.ok) throw new Error('expected a failure');
  return envelope.error;
}

const publicFixtures = sandbox.fixtures.filter((fixture) => fixture.public);

describe('an LXD remote trusted with a token', () => {
  it('is added after confirming the certificate, lists all images, and survives a restart', async () => {
    const { hangar, dataDir } = await open();
    const serverFingerprint = /certificate_fingerprint: (\w+)/.exec(await onServer('info'))?.[1];
    const token = await newToken('hangar-token-test');

    const probe = await call<{
      url: string;
      certificate: { fingerprint: string };
      tokenClientName: string;
    }>(hangar, 'remotes.probe', { token });
    expect(probe.url).toBe(remoteUrl);
    expect(probe.certificate.fingerprint).toBe(serverFingerprint);
    expect(probe.tokenClientName).toBe('hangar-token-test');

    const added = await call(hangar, 'remotes.add', {
      protocol: 'lxd',
      name: 'second',
      acceptedFingerprint: probe.certificate.fingerprint,
      auth: { method: 'token', token },
    });
    expect(added).toEqual({
      name: 'second',
      protocol: 'lxd',
      addr: remoteUrl,
      authType: 'tls',
      public: false,
      static: false,
      isDefault: false,
    });
    const images = await call<LxdImage[]>(hangar, 'images.list', { remote: 'second' });
    expect(images.map((image) => image.fingerprint).sort()).toEqual(
      sandbox.fixtures.map((fixture) => fixture.fingerprint).sort(),
    );
    await expect
      .poll(
        async () =>
          (await call<RemoteStatus>(hangar, 'remotes.status', { remote: 'second' })).state,
      )
      .toBe('online');
    expect(await call<RemoteStatus>(hangar, 'remotes.status', { remote: 'second' })).toMatchObject({
      auth: 'trusted',
    });

    // lxc's layout and modes: nothing readable by others.
    for (const file of ['remotes.json', 'client.crt', 'client.key', 'servercerts/second.crt']) {
      expect(((await stat(join(dataDir, file))).mode & 0o777).toString(8)).toBe('600');
    }
    expect(((await stat(dataDir)).mode & 0o777).toString(8)).toBe('700');
    const clientCert = await readFile(join(dataDir, 'client.crt'), 'utf8');
    expect(await onServer('config', 'trust', 'list', '--format', 'csv')).toContain(
      'hangar-token-test',
    );

    // The token is spent: another client using it is refused with LXD's reason.
    const { hangar: stranger } = await open();
    const reuse = await fails(stranger, 'remotes.add', {
      protocol: 'lxd',
      name: 'again',
      acceptedFingerprint: probe.certificate.fingerprint,
      auth: { method: 'token', token },
    });
    expect(reuse.code).toBe('not-trusted');
    expect(reuse.message).toMatch(/^The server refused the trust token: .+ ask for a new one/i);

    // A restart finds the remote, the same identity, and still trusted.
    await hangar.close();
    const { hangar: restarted } = await open(dataDir);
    const remotes = await call<{ name: string }[]>(restarted, 'remotes.list', {});
    expect(remotes.map((remote) => remote.name)).toContain('second');
    expect(await readFile(join(dataDir, 'client.crt'), 'utf8')).toBe(clientCert);
    const again = await call<LxdImage[]>(restarted, 'images.list', { remote: 'second' });
    expect(again).toHaveLength(sandbox.fixtures.length);

    // Revoked on the server: a specific error, not an empty list.
    const trusted = await onServer('config', 'trust', 'list', '--format', 'csv');
    const line = trusted.split('\n').find((row) => row.includes('hangar-token-test')) ?? '';
    const fingerprint = line.split(',').find((cell) => /^[0-9a-f]{12}$/.test(cell)) ?? '';
    await onServer('config', 'trust', 'remove', fingerprint);
    const { hangar: revoked } = await open(dataDir);
    await expect
      .poll(
        async () =>
          (await call<RemoteStatus>(revoked, 'remotes.status', { remote: 'second' })).state,
      )
      .toBe('unreachable');
    const refused = await fails(revoked, 'images.list', { remote: 'second' });
    expect(refused.code).toBe('not-trusted');
    expect(refused.message).toMatch(/no longer trusts Hangar's client certificate/);
  });

  it('refuses a wrong token, an unreachable host and a server that is not LXD, each with its own error', async () => {
    const { hangar } = await open();
    const garbage = await fails(hangar, 'remotes.probe', { token: 'not-a-token' });
    expect(garbage.code).toBe('invalid-input');
    expect(garbage.message).toMatch(/not an LXD trust token/);

    // A well-formed token with a wrong secret: the server says no.
    const real = JSON.parse(
      Buffer.from(await newToken('hangar-wrong'), 'base64').toString(),
    ) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...real, secret: 'f'.repeat(64) })).toString(
      'base64',
    );
    const wrong = await fails(hangar, 'remotes.add', {
      protocol: 'lxd',
      name: 'forged',
      acceptedFingerprint: real.fingerprint,
      auth: { method: 'token', token: forged },
    });
    expect(wrong.code).toBe('not-trusted');
    expect(wrong.message).toMatch(/refused the trust token/);
    expect(await call<{ name: string }[]>(hangar, 'remotes.list', {})).not.toContainEqual(
      expect.objectContaining({ name: 'forged' }),
    );

    // Nothing listens on port 1.
    expect(await fails(hangar, 'remotes.probe', { addr: '127.0.0.1:1' })).toMatchObject({
      code: 'lxd-unreachable',
      message:
        'Cannot reach https://127.0.0.1:1: connection refused (is LXD listening there? `lxc config set core.https_address`).',
    });

    // An HTTPS server that is not LXD.
    const cert = await createSelfSignedCertificate({
      commonName: 'other',
      usage: 'server',
      hosts: ['127.0.0.1'],
    });
    const other = createServer({ cert: cert.certificate, key: cert.key }, (_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end('<html>not lxd</html>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as { port: number };
    try {
      const notLxd = await fails(hangar, 'remotes.probe', { addr: `127.0.0.1:${port}` });
      expect(notLxd.code).toBe('lxd-error');
      expect(notLxd.message).toMatch(/did not answer like an LXD server/);
    } finally {
      other.close();
    }
  });
});

describe('an LXD remote trusted with a password', () => {
  it('refuses a wrong password with a specific error and trusts the right one', async () => {
    await onServer('config', 'set', 'core.trust_password', 'right-password');
    try {
      const { hangar } = await open();
      const probe = await call<{ certificate: { fingerprint: string } }>(hangar, 'remotes.probe', {
        addr: sandbox.remoteHttps,
      });
      const add = (password: string) =>
        dispatch(hangar.handlers, 'remotes.add', {
          protocol: 'lxd',
          name: 'by-password',
          addr: sandbox.remoteHttps,
          acceptedFingerprint: probe.certificate.fingerprint,
          auth: { method: 'password', password },
        });
      expect(await add('wrong-password')).toMatchObject({
        ok: false,
        error: {
          code: 'not-trusted',
          message: expect.stringMatching(/refused the trust password/) as unknown,
        },
      });
      expect(await add('right-password')).toMatchObject({ ok: true });
      expect(await call<LxdImage[]>(hangar, 'images.list', { remote: 'by-password' })).toHaveLength(
        sandbox.fixtures.length,
      );
    } finally {
      await onServer('config', 'unset', 'core.trust_password');
    }
  });
});

describe('a public LXD remote', () => {
  it('shows only the public images, without credentials', async () => {
    const { hangar, dataDir } = await open();
    const probe = await call<{ certificate: { fingerprint: string }; auth: string }>(
      hangar,
      'remotes.probe',
      { addr: sandbox.remoteHttps },
    );
    expect(probe.auth).toBe('untrusted');
    await call(hangar, 'remotes.add', {
      protocol: 'lxd',
      name: 'pub',
      addr: sandbox.remoteHttps,
      acceptedFingerprint: probe.certificate.fingerprint,
      auth: { method: 'public' },
    });
    const images = await call<LxdImage[]>(hangar, 'images.list', { remote: 'pub' });
    expect(images.map((image) => image.fingerprint).sort()).toEqual(
      publicFixtures.map((fixture) => fixture.fingerprint).sort(),
    );
    expect(await call(hangar, 'projects.list', { remote: 'pub' })).toEqual(['default']);
    // No client identity was made for it.
    expect(await readdir(dataDir)).not.toContain('client.crt');
  });

  it('refuses a certificate other than the one the user confirmed', async () => {
    const { hangar } = await open();
    const error = await fails(hangar, 'remotes.add', {
      protocol: 'lxd',
      name: 'mitm',
      addr: sandbox.remoteHttps,
      acceptedFingerprint: 'a'.repeat(64),
      auth: { method: 'public' },
    });
    expect(error.code).toBe('certificate-changed');
    expect(error.message).toMatch(/not the a{64} you confirmed/);
  });
});

describe('a pinned remote presenting another certificate', () => {
  it('is refused with both fingerprints until the user trusts the new one', async () => {
    const { hangar, dataDir } = await open();
    const probe = await call<{ certificate: { fingerprint: string } }>(hangar, 'remotes.probe', {
      addr: sandbox.remoteHttps,
    });
    await call(hangar, 'remotes.add', {
      protocol: 'lxd',
      name: 'pinned',
      addr: sandbox.remoteHttps,
      acceptedFingerprint: probe.certificate.fingerprint,
      auth: { method: 'public' },
    });
    await hangar.close();

    // Another server's certificate pinned in its place: what a reinstalled server looks like.
    const impostor = await createSelfSignedCertificate({ commonName: 'old', usage: 'server' });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dataDir, 'servercerts', 'pinned.crt'), impostor.certificate, {
      mode: 0o600,
    });

    const { hangar: reopened } = await open(dataDir);
    await expect
      .poll(
        async () =>
          (await call<RemoteStatus>(reopened, 'remotes.status', { remote: 'pinned' })).state,
      )
      .toBe('unreachable');
    const status = await call<RemoteStatus>(reopened, 'remotes.status', { remote: 'pinned' });
    expect(status).toMatchObject({
      state: 'unreachable',
      error: { code: 'certificate-changed' },
      certificate: { pinned: impostor.fingerprint, presented: probe.certificate.fingerprint },
    });
    expect((await fails(reopened, 'images.list', { remote: 'pinned' })).code).toBe(
      'certificate-changed',
    );

    // Trusting requires the fingerprint the server really presents.
    expect(
      (
        await fails(reopened, 'remotes.trustCertificate', {
          remote: 'pinned',
          fingerprint: impostor.fingerprint,
        })
      ).code,
    ).toBe('certificate-changed');
    await call(reopened, 'remotes.trustCertificate', {
      remote: 'pinned',
      fingerprint: probe.certificate.fingerprint,
    });
    expect(await call<LxdImage[]>(reopened, 'images.list', { remote: 'pinned' })).toHaveLength(
      publicFixtures.length,
    );
  });
});

describe('managing remotes', () => {
  it('renames, sets the default and removes, refusing what lxc refuses', async () => {
    const { hangar, messages } = await open();
    const probe = await call<{ certificate: { fingerprint: string } }>(hangar, 'remotes.probe', {
      addr: sandbox.remoteHttps,
    });
    await call(hangar, 'remotes.add', {
      protocol: 'lxd',
      name: 'one',
      addr: sandbox.remoteHttps,
      acceptedFingerprint: probe.certificate.fingerprint,
      auth: { method: 'public' },
    });
    expect(
      (
        await fails(hangar, 'remotes.add', {
          protocol: 'simplestreams',
          name: 'one',
          addr: 'https://example.invalid',
        })
      ).code,
    ).toBe('conflict');
    expect(
      (
        await fails(hangar, 'remotes.add', {
          protocol: 'lxd',
          name: 'bad:name',
          addr: 'x',
          acceptedFingerprint: 'a'.repeat(64),
          auth: { method: 'public' },
        })
      ).code,
    ).toBe('invalid-input');

    await call(hangar, 'remotes.rename', { remote: 'one', newName: 'two' });
    await call(hangar, 'remotes.setDefault', { remote: 'two' });
    let remotes = await call<{ name: string; isDefault: boolean }[]>(hangar, 'remotes.list', {});
    expect(remotes.filter((remote) => remote.isDefault).map((remote) => remote.name)).toEqual([
      'two',
    ]);
    expect(await call<LxdImage[]>(hangar, 'images.list', { remote: 'two' })).toHaveLength(
      publicFixtures.length,
    );
    expect((await fails(hangar, 'images.list', { remote: 'one' })).code).toBe('unknown-remote');

    expect(await fails(hangar, 'remotes.remove', { remote: 'local' })).toMatchObject({
      code: 'invalid-input',
      message: '"local" is built in and cannot be removed.',
    });
    expect((await fails(hangar, 'remotes.rename', { remote: 'ubuntu', newName: 'u' })).code).toBe(
      'invalid-input',
    );
    await call(hangar, 'remotes.remove', { remote: 'two' });
    remotes = await call(hangar, 'remotes.list', {});
    expect(remotes.map((remote) => remote.name)).not.toContain('two');
    expect(remotes.find((remote) => remote.isDefault)?.name).toBe('local');
    expect(
      messages.filter((message) => message.event === 'remotes.changed').length,
    ).toBeGreaterThanOrEqual(4);
  });
});

describe("importing the lxc client's remotes", () => {
  it('offers them on first run, imports with lxc’s certificate, and never writes to lxc’s config', async () => {
    // A real lxc client config: lxc trusts the second daemon with a token of its own.
    const lxcConf = await scratch('hangar-lxcconf-');
    const lxcEnv = { ...process.env, LXD_CONF: lxcConf };
    const token = await newToken('lxc-client');
    await run('lxc', ['remote', 'add', 'server2', token], { env: lxcEnv });
    await run(
      'lxc',
      ['remote', 'add', 'pubsrv', sandbox.remoteHttps, '--public', '--accept-certificate'],
      {
        env: lxcEnv,
      },
    );
    const snapshot = async () => {
      const files = (await readdir(lxcConf, { recursive: true })).sort();
      const contents = await Promise.all(
        files.map(async (file) => {
          const info = await stat(join(lxcConf, file));
          return info.isFile()
            ? `${file}:${info.mtimeMs}:${await readFile(join(lxcConf, file), 'utf8')}`
            : file;
        }),
      );
      return contents.join('\n');
    };
    const before = await snapshot();

    const dataDir = await scratch('hangar-import-');
    const hangar = await createHangar({
      env: { LXD_DIR: sandbox.localDir, LXD_CONF: lxcConf },
      dataDir,
      secrets: plaintextCodec('test'),
    });
    opened.push(hangar);
    const offer = await call<{ configDir: string; remotes: { name: string; conflict?: string }[] }>(
      hangar,
      'remotes.lxcOffer',
      {},
    );
    expect(offer.configDir).toBe(lxcConf);
    expect(offer.remotes.map((remote) => [remote.name, remote.conflict])).toEqual([
      ['images', 'already in Hangar'],
      ['pubsrv', undefined],
      ['server2', undefined],
    ]);
    await call(hangar, 'remotes.importLxc', { names: ['server2', 'pubsrv'] });
    expect(await call<LxdImage[]>(hangar, 'images.list', { remote: 'server2' })).toHaveLength(
      sandbox.fixtures.length,
    );
    expect(await call<LxdImage[]>(hangar, 'images.list', { remote: 'pubsrv' })).toHaveLength(
      publicFixtures.length,
    );
    expect(await readFile(join(dataDir, 'client.crt'), 'utf8')).toBe(
      await readFile(join(lxcConf, 'client.crt'), 'utf8'),
    );
    // Answered: not offered again, even after a restart.
    expect(await call(hangar, 'remotes.lxcOffer', {})).toBeNull();
    expect(await snapshot()).toBe(before);
  });
});
