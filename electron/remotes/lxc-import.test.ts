/**
 * Remote names read from the lxc client's config.yml are checked like names typed by the user
 * before they touch a path: servercerts/<name>.crt in lxc's directory (read) and in Hangar's
 * (written). No LXD daemon: the remotes are never reached.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Handlers, LxcImportOffer, RemoteSummary } from '../../shared/contract.js';
import type { HangarErrorData } from '../../shared/errors.js';
import { REMOTE_NAME_RULE } from '../../shared/remote-name.js';
import { dispatch } from '../dispatch.js';
import { EventHub } from '../event-hub.js';
import { RemotesConfig } from './config.js';
import { plaintextCodec } from './identity.js';
import { readLxcConfig } from './lxc-import.js';
import { RemoteRegistry } from './registry.js';
import { remoteHandlers } from './service.js';

const PEM = '-----BEGIN CERTIFICATE-----\nnot parsed here\n-----END CERTIFICATE-----\n';
/** Nothing listens there: an imported remote fails to connect, which these tests ignore. */
const NOWHERE = 'https://127.0.0.1:1';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/**
 * root/a/lxc is lxc's directory, root/b/data Hangar's. `../../evil` in lxc's servercerts/ is
 * root/a/evil.crt; in Hangar's it would be root/b/evil.crt, outside the data directory.
 */
async function layout() {
  const root = await mkdtemp(join(tmpdir(), 'hangar-lxc-names-'));
  cleanup.push(() => rm(root, { recursive: true, force: true }));
  const lxcDir = join(root, 'a', 'lxc');
  const dataDir = join(root, 'b', 'data');
  await mkdir(join(lxcDir, 'servercerts'), { recursive: true });
  await mkdir(dataDir, { recursive: true });
  await writeFile(
    join(lxcDir, 'config.yml'),
    [
      'default-remote: ../../evil',
      'remotes:',
      '  ../../evil:',
      `    addr: ${NOWHERE}`,
      '    protocol: lxd',
      '    public: true',
      '  ../../../ss:',
      `    addr: ${NOWHERE}`,
      '    protocol: simplestreams',
      '    public: true',
      '  fine:',
      `    addr: ${NOWHERE}`,
      '    protocol: lxd',
      '    public: true',
      '',
    ].join('\n'),
  );
  await writeFile(join(root, 'a', 'evil.crt'), PEM);
  await writeFile(join(lxcDir, 'servercerts', 'fine.crt'), PEM);
  return { root, lxcDir, dataDir };
}

/** Every file under `root`, except those in Hangar's data directory. */
async function filesOutside(root: string, dataDir: string): Promise<string[]> {
  const inside = dataDir.slice(root.length + 1);
  return (await readdir(root, { recursive: true }))
    .filter((path) => path !== inside && !path.startsWith(`${inside}/`))
    .sort();
}

async function openRegistry(lxcDir: string, dataDir: string): Promise<Handlers> {
  const registry = await RemoteRegistry.open({
    env: { LXD_CONF: lxcDir, HOME: dataDir },
    dataDir,
    secrets: plaintextCodec('test'),
    hub: new EventHub(),
    retryMs: 60_000,
  });
  cleanup.push(() => registry.close());
  return remoteHandlers(registry) as Handlers;
}

async function call(handlers: Handlers, name: string, input: unknown) {
  return (await dispatch(handlers, name, input)) as
    { ok: true; value: unknown } | { ok: false; error: HangarErrorData };
}

describe("remote names from lxc's config.yml", () => {
  it('are refused in the offer, with the rule, when they are not file names', async () => {
    const { lxcDir, dataDir } = await layout();
    const handlers = await openRegistry(lxcDir, dataDir);
    const offer = await call(handlers, 'remotes.lxcOffer', {});
    if (!offer.ok) throw new Error(offer.error.message);
    const { remotes } = offer.value as LxcImportOffer;
    expect(remotes.map((remote) => [remote.name, remote.conflict])).toEqual([
      ['../../../ss', `its name is refused: ${REMOTE_NAME_RULE}`],
      ['../../evil', `its name is refused: ${REMOTE_NAME_RULE}`],
      ['fine', undefined],
    ]);
  });

  it('are never read from, nor written outside, a data directory', async () => {
    const { root, lxcDir, dataDir } = await layout();
    // Read: lxc's servercerts/../../evil.crt is not taken as the remote's certificate.
    const lxc = await readLxcConfig(lxcDir);
    const evil = lxc?.remotes.find((remote) => remote.name === '../../evil');
    expect(evil?.serverCert).toBeUndefined();
    expect(evil?.unsupported).toBe(`its name is refused: ${REMOTE_NAME_RULE}`);

    const before = await filesOutside(root, dataDir);
    const handlers = await openRegistry(lxcDir, dataDir);
    for (const name of ['../../evil', '../../../ss']) {
      const refused = await call(handlers, 'remotes.importLxc', { names: [name, 'fine'] });
      expect(refused.ok).toBe(false);
      if (refused.ok) continue;
      expect(refused.error).toEqual({
        code: 'invalid-input',
        message: `Cannot import "${name}": its name is refused: ${REMOTE_NAME_RULE}.`,
      });
    }
    const imported = await call(handlers, 'remotes.importLxc', { names: ['fine'] });
    if (!imported.ok) throw new Error(imported.error.message);
    expect((imported.value as RemoteSummary[]).map((remote) => remote.name)).toEqual(['fine']);
    expect(await readdir(join(dataDir, 'servercerts'))).toEqual(['fine.crt']);
    expect(await filesOutside(root, dataDir)).toEqual(before);
  });

  it('and any other name are checked again where servercerts/<name>.crt is formed', async () => {
    const { root, dataDir } = await layout();
    const before = await filesOutside(root, dataDir);
    const config = await RemotesConfig.load(dataDir);
    const entry = { addr: NOWHERE, protocol: 'lxd', public: true } as const;
    for (const name of ['../../escaped', '../x', '.hidden', 'a/b', ''])
      await expect(config.add(name, entry, PEM)).rejects.toThrow(
        `"${name}" cannot be a remote's name: ${REMOTE_NAME_RULE}.`,
      );
    expect(() => config.serverCertPath('../../escaped')).toThrow(REMOTE_NAME_RULE);
    await config.add('fine', entry, PEM);
    await expect(config.rename('fine', '../../renamed')).rejects.toThrow(REMOTE_NAME_RULE);
    expect(await readdir(join(dataDir, 'servercerts'))).toEqual(['fine.crt']);
    expect(await filesOutside(root, dataDir)).toEqual(before);
  });
});
