import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LxdImage } from '../../shared/lxd.js';
import { LXC_SORT, type ImageView } from '../../shared/images/view.js';
import { generateCatalog } from '../../scripts/simplestreams/catalog-generator.js';
import { startSimplestreamsServer } from '../../scripts/simplestreams/server.js';
import { dispatch } from '../dispatch.js';
import { createHangar } from '../hangar.js';
import { plaintextCodec } from '../remotes/identity.js';
import { ListCache, type CachedList } from './list-cache.js';

const image = (digit: string): LxdImage => ({ fingerprint: digit.repeat(64) }) as LxdImage;
const fingerprints = (list: CachedList | null) => list?.images.map((entry) => entry.fingerprint);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-list-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ListCache', () => {
  it('keeps the last list of each remote and project, 0600 in 0700 directories', async () => {
    const cache = new ListCache(dir);
    expect(await cache.read('one', 'default', 'https://a')).toBeNull();
    await cache.write('one', 'default', 'https://a', [image('a'), image('b')]);
    await cache.write('one', 'other', 'https://a', [image('c')]);
    await cache.write('two', 'default', 'https://b', [image('d')]);
    expect(fingerprints(await cache.read('one', 'default', 'https://a'))).toEqual([
      'a'.repeat(64),
      'b'.repeat(64),
    ]);
    expect(fingerprints(await cache.read('one', 'other', 'https://a'))).toEqual(['c'.repeat(64)]);
    expect(fingerprints(await cache.read('two', 'default', 'https://b'))).toEqual(['d'.repeat(64)]);
    const read = await cache.read('one', 'default', 'https://a');
    expect(Date.parse(read?.fetchedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect((await stat(join(dir, 'one'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'one', 'default.json'))).mode & 0o777).toBe(0o600);
    // Replaced atomically: no temporary file is left.
    await cache.write('one', 'default', 'https://a', [image('e')]);
    expect(await readdir(join(dir, 'one'))).toEqual(['default.json', 'other.json']);
    expect(fingerprints(await cache.read('one', 'default', 'https://a'))).toEqual(['e'.repeat(64)]);
  });

  it('never answers with another remote, project or address', async () => {
    const cache = new ListCache(dir);
    await cache.write('one', 'default', 'https://a', [image('a')]);
    // The same name now at another address (removed and added again elsewhere).
    expect(await cache.read('one', 'default', 'https://other')).toBeNull();
    expect(await cache.read('one', 'x', 'https://a')).toBeNull();
    expect(await cache.read('two', 'default', 'https://a')).toBeNull();
    // A file copied under another name is not that name's list.
    await writeFile(
      join(dir, 'one', 'copied.json'),
      await readFile(join(dir, 'one', 'default.json')),
    );
    expect(await cache.read('one', 'copied', 'https://a')).toBeNull();
    // Damaged files count as no copy.
    await writeFile(join(dir, 'one', 'default.json'), '{"version":1,');
    expect(await cache.read('one', 'default', 'https://a')).toBeNull();
  });

  it('keeps names inside its directory', async () => {
    const cache = new ListCache(join(dir, 'lists'));
    await cache.write('..', '../../escape', 'https://a', [image('a')]);
    await cache.write('.', 'a/b', 'https://a', [image('b')]);
    expect(await readdir(dir)).toEqual(['lists']);
    expect(fingerprints(await cache.read('..', '../../escape', 'https://a'))).toEqual([
      'a'.repeat(64),
    ]);
    expect(fingerprints(await cache.read('.', 'a/b', 'https://a'))).toEqual(['b'.repeat(64)]);
  });

  it('is bounded: big lists are not kept, and the oldest lists go', async () => {
    const cache = new ListCache(dir, { maxBytes: 1000, maxLists: 2 });
    await cache.write('one', 'default', 'https://a', [image('a')]);
    await cache.write(
      'one',
      'default',
      'https://a',
      Array.from({ length: 50 }, () => image('b')),
    );
    // Too big: the older copy is dropped too, never shown for a newer list.
    expect(await cache.read('one', 'default', 'https://a')).toBeNull();
    await cache.write('a', 'default', 'https://a', [image('a')]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await cache.write('b', 'default', 'https://a', [image('b')]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await cache.write('c', 'default', 'https://a', [image('c')]);
    expect(await cache.read('a', 'default', 'https://a')).toBeNull();
    expect(await cache.read('b', 'default', 'https://a')).not.toBeNull();
    expect(await cache.read('c', 'default', 'https://a')).not.toBeNull();
  });

  it('drops the lists of remotes that are gone', async () => {
    const cache = new ListCache(dir);
    await cache.write('one', 'default', 'https://a', [image('a')]);
    await cache.write('two', 'default', 'https://b', [image('b')]);
    await cache.keepOnly(['two']);
    expect(await cache.read('one', 'default', 'https://a')).toBeNull();
    expect(await cache.read('two', 'default', 'https://b')).not.toBeNull();
    await cache.dropRemote('two');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('held lists (images.load, images.view)', () => {
  /** A simplestreams server with a generated catalog, and Hangar (started as often as asked) on one data dir. */
  async function catalogServer(products: number, versionsPerProduct: number) {
    const catalog = generateCatalog({ products, versionsPerProduct });
    const server = await startSimplestreamsServer({ files: catalog.files });
    const dataDir = join(dir, 'data');
    const start = () =>
      createHangar({
        env: { LXD_DIR: join(dir, 'no-lxd'), LXD_CONF: join(dir, 'no-lxc') },
        dataDir,
        secrets: plaintextCodec('test'),
        extraCa: server.ca,
      });
    return { server, dataDir, start };
  }

  it('answers windows of the last list, from memory, then from disk after a restart, and forgets a removed or renamed remote', async () => {
    const { server, dataDir, start } = await catalogServer(30, 2);
    let hangar = await start();
    const call = async (name: Parameters<typeof dispatch>[1], input: unknown) => {
      const envelope = await dispatch(hangar.handlers, name, input);
      if (!envelope.ok) throw new Error(envelope.error.message);
      return envelope.value;
    };
    const query = { project: 'default', filter: '', sort: LXC_SORT, offset: 0, limit: 10 };
    const view = async (remote: string, extra: object = {}) =>
      (await call('images.view', { remote, ...query, ...extra })) as ImageView;
    const until = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 100 && !(await check()); i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
    };
    const kept = (remote: string) =>
      stat(join(dataDir, 'cache', 'lists', remote, 'default.json')).then(
        () => true,
        () => false,
      );
    try {
      await call('remotes.add', { protocol: 'simplestreams', name: 'cat', addr: server.url });
      // Adding it read the catalog: that read is held as its list at once (the window opens
      // on it next), without reading the server again.
      await until(async () => (await view('cat')).state === 'fresh');
      const held = await view('cat');
      expect(server.count('streams/v1/images.json')).toBe(1);
      const whole = (await call('images.list', { remote: 'cat' })) as LxdImage[];
      expect(whole.length).toBeGreaterThan(60);
      expect(held).toMatchObject({ state: 'fresh', total: whole.length });

      // The server's answer: counts of the whole list, but only the rows asked for.
      const loaded = (await call('images.load', { remote: 'cat', ...query })) as ImageView;
      expect(loaded).toMatchObject({ state: 'fresh', total: whole.length, matched: whole.length });
      expect(loaded.rows).toHaveLength(10);
      // Read again, unchanged: the same version, so windows on screen stay as they are.
      expect((await view('cat')).version).toBe(loaded.version);

      // A filter and a sort, done where the list is held.
      const amd64 = whole.filter((image) => image.architecture === 'x86_64').length;
      const filtered = await view('cat', {
        filter: 'architecture=x86_64',
        sort: { column: 'sizeBytes', desc: true },
        limit: 1000,
      });
      expect(filtered.matched).toBe(amd64);
      const sizes = filtered.rows.map((row) => row.sizeBytes);
      expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
      const details = (await call('images.details', {
        remote: 'cat',
        project: 'default',
        fingerprints: [filtered.rows[0]?.fingerprint ?? ''],
      })) as LxdImage[];
      expect(details).toEqual(
        whole.filter((image) => image.fingerprint === filtered.rows[0]?.fingerprint),
      );

      // A restart: the copy on disk answers before the server is asked.
      await until(() => kept('cat'));
      await hangar.close();
      hangar = await start();
      const restarted = await view('cat');
      expect(restarted).toMatchObject({ state: 'kept', total: whole.length });
      expect(restarted.rows).toEqual(loaded.rows);

      await call('remotes.rename', { remote: 'cat', newName: 'renamed' });
      await until(async () => (await readdir(join(dataDir, 'cache', 'lists'))).length === 0);
      expect(await readdir(join(dataDir, 'cache', 'lists'))).toEqual([]);
      expect(await view('renamed')).toMatchObject({ state: 'none' });

      await call('images.load', { remote: 'renamed', ...query });
      expect(await view('renamed')).toMatchObject({ state: 'fresh', total: whole.length });
      await until(() => kept('renamed'));
      await call('remotes.remove', { remote: 'renamed' });
      await until(async () => (await readdir(join(dataDir, 'cache', 'lists'))).length === 0);
      expect(await readdir(join(dataDir, 'cache', 'lists'))).toEqual([]);
      await expect(view('renamed')).rejects.toThrow(/no remote named "renamed"/);
    } finally {
      await hangar.close();
      await server.close();
    }
  });

  it('keeps the list read just before Hangar closes: closing waits for it to be written', async () => {
    // 20,000 images: written a slice per turn of the event loop, then ~10 MB to the disk.
    const { server, dataDir, start } = await catalogServer(4000, 5);
    const query = { project: 'default', filter: '', sort: LXC_SORT, offset: 0, limit: 10 };
    try {
      const hangar = await start();
      const added = await dispatch(hangar.handlers, 'remotes.add', {
        protocol: 'simplestreams',
        name: 'big',
        addr: server.url,
      });
      expect(added.ok).toBe(true);
      const loaded = await dispatch(hangar.handlers, 'images.load', { remote: 'big', ...query });
      if (!loaded.ok) throw new Error(loaded.error.message);
      const { total } = loaded.value as ImageView;
      expect(total).toBeGreaterThan(19_000);
      await hangar.close();

      const lists = join(dataDir, 'cache', 'lists', 'big');
      expect(await readdir(lists)).toEqual(['default.json']);
      const cache = new ListCache(join(dataDir, 'cache', 'lists'));
      expect((await cache.read('big', 'default', server.url))?.images).toHaveLength(total);
      // And the next start paints it before asking the server.
      const again = await start();
      try {
        const shown = await dispatch(again.handlers, 'images.view', { remote: 'big', ...query });
        expect(shown).toMatchObject({ ok: true, value: { state: 'kept', total } });
      } finally {
        await again.close();
      }
    } finally {
      await server.close();
    }
  });
});
