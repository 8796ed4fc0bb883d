/**
 * Hangar's reading of a simplestreams server against `lxc`'s own (LXD
 * 5.0.2 here): every field of `lxc image list t: --format json` and
 * `lxc image alias list t: --format json`, exactly. The server is a
 * loopback HTTPS one; Go trusts its certificate through SSL_CERT_FILE.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { machine, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalog } from '../../scripts/simplestreams/catalog-generator.js';
import {
  startSimplestreamsServer,
  type SimplestreamsServer,
} from '../../scripts/simplestreams/server.js';
import type { CatalogAlias } from './catalog.js';
import { SimplestreamsClient, type Catalog } from './client.js';

const run = promisify(execFile);

/**
 * lxc is a dependency of the suite, as LXD is: without it this fails and says why, under CI and
 * on a developer's machine alike (no test skips; see README).
 */
async function requireLxc(): Promise<void> {
  try {
    await run('lxc', ['--version']);
  } catch (error) {
    throw new Error(
      `This test compares Hangar with lxc, which cannot be run (${String(error)}). Install it: bash scripts/setup.sh (or sudo apt-get install lxd-client).`,
      { cause: error },
    );
  }
}

/** lxc prints Go's nil slices as null; LxdImage holds them as empty lists. */
function normalize(image: Record<string, unknown>): Record<string, unknown> {
  return { ...image, aliases: image.aliases ?? [], profiles: image.profiles ?? [] };
}

const aliasOrder = (a: CatalogAlias, b: CatalogAlias) =>
  a.name === b.name ? a.type.localeCompare(b.type) : a.name < b.name ? -1 : 1;

describe('simplestreams catalog: conformance with lxc', () => {
  // ~300 versions plus the edge cases (skipped serials, missing hashes, unified, VM disks,
  // foreign and unknown architectures, conflicting aliases) and the real fixture image.
  const generated = generateCatalog({ products: 24, versionsPerProduct: 12, edgeCases: true });
  let server: SimplestreamsServer | undefined;
  let dir = '';
  let lxcImages: Record<string, unknown>[];
  let lxcAliases: CatalogAlias[];
  let catalog: Catalog;

  beforeAll(async () => {
    await requireLxc();
    // gzip-encoded to those who ask, as the public servers do: both lxc and Hangar ask.
    server = await startSimplestreamsServer({ files: generated.files, gzip: true });
    dir = await mkdtemp(join(tmpdir(), 'hangar-ss-conformance-'));
    await writeFile(join(dir, 'server.pem'), server.ca);
    const env = {
      ...process.env,
      LXD_CONF: join(dir, 'lxc'),
      SSL_CERT_FILE: join(dir, 'server.pem'),
    };
    const lxc = async (...args: string[]) =>
      (await run('lxc', args, { env, maxBuffer: 1 << 28 })).stdout;
    await lxc('remote', 'add', 't', server.url, '--protocol', 'simplestreams', '--public');
    lxcImages = JSON.parse(await lxc('image', 'list', 't:', '--format', 'json')) as Record<
      string,
      unknown
    >[];
    lxcAliases = JSON.parse(
      await lxc('image', 'alias', 'list', 't:', '--format', 'json'),
    ) as CatalogAlias[];
    const client = new SimplestreamsClient({
      url: server.url,
      cacheDir: join(dir, 'cache'),
      ca: server.ca,
      // lxc compares with its own uname -m: the same machine.
      hostArchitectures: [machine()],
    });
    catalog = await client.load();
    await client.close();
  });

  afterAll(async () => {
    await server?.close();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('lists the same images, field for field, in the same order', () => {
    expect(generated.versions).toBeGreaterThan(300);
    expect(lxcImages.length).toBeGreaterThan(600);
    expect(catalog.images.length).toBe(lxcImages.length);
    const ours = catalog.images as unknown as Record<string, unknown>[];
    for (const [index, image] of lxcImages.entries())
      expect(ours[index], `image ${index}: ${String(image.fingerprint)}`).toStrictEqual(
        normalize(image),
      );
  });

  it('lists the same aliases (lxc leaves their order to an unstable sort)', () => {
    expect(lxcAliases.length).toBeGreaterThan(100);
    expect([...catalog.aliases].sort(aliasOrder)).toStrictEqual([...lxcAliases].sort(aliasOrder));
  });

  it('serves a real image whose fingerprint LXD can check', async () => {
    const fixture = generated.fixture;
    if (fixture === undefined) throw new Error('the generator made no fixture image');
    const [metadata, rootfs] = fixture.split.files.map((path) => generated.files.get(path));
    if (metadata === undefined || rootfs === undefined) throw new Error('fixture files missing');
    const combined = createHash('sha256').update(metadata).update(rootfs).digest('hex');
    expect(combined).toBe(fixture.split.fingerprint);
    const listed = lxcImages.find((image) => image.fingerprint === combined);
    expect(listed?.aliases).toContainEqual({ name: 'hangar/fixture', description: '' });
    const unified = lxcImages.find((image) => image.fingerprint === fixture.unified.fingerprint);
    expect(unified?.properties).toMatchObject({ type: 'tar.gz' });
    const metadataFile = join(dir, 'lxd.tar.xz');
    await writeFile(metadataFile, metadata);
    const { stdout } = await run('tar', ['-tJf', metadataFile]);
    expect(stdout.split('\n')).toContain('metadata.yaml');
  });
});
