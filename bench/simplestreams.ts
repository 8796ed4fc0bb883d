/**
 * `npm run bench` (second part): a simplestreams catalog the size of
 * images.linuxcontainers.org (BENCH_VERSIONS, default 10,000 versions),
 * served on loopback HTTPS, loaded and filtered by Hangar's services and by
 * `lxc image list <remote>:` in one run. Cold = nothing cached; warm = the
 * second load (Hangar revalidates its on-disk cache; lxc uses its own cache).
 * The lxc client trusts the test server through SSL_CERT_FILE, which Go
 * reads; nothing on the system is changed.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dispatch } from '../electron/dispatch.js';
import { createHangar, type Hangar } from '../electron/hangar.js';
import { plaintextCodec } from '../electron/remotes/identity.js';
import { filterImages, parseFilter } from '../shared/images/filter.js';
import type { LxdImage } from '../shared/lxd.js';
import { generateCatalog } from '../scripts/simplestreams/catalog-generator.js';
import { startSimplestreamsServer } from '../scripts/simplestreams/server.js';
import { createSelfSignedCertificate } from '../electron/tls/certificate.js';
import { median, report, time } from './measure.js';

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 10_000);
const VERSIONS_PER_PRODUCT = 5;
const RUNS = 5;
const FILTER = ['os=Debian', 'release=bookworm'];
const run = promisify(execFile);

const dir = await mkdtemp(join(tmpdir(), 'hangar-bench-ss-'));
const generated = generateCatalog({
  products: Math.ceil(VERSIONS / VERSIONS_PER_PRODUCT),
  versionsPerProduct: VERSIONS_PER_PRODUCT,
});
// One certificate for both servers: one CA to trust.
const identity = await createSelfSignedCertificate({
  commonName: '127.0.0.1',
  usage: 'server',
  hosts: ['127.0.0.1'],
});
const server = await startSimplestreamsServer({ files: generated.files, identity });
/**
 * The same files over a link of LINK_MBIT (a fast home connection), where the download dominates:
 * sent as they are, and gzip-encoded to the clients that ask (lxc does), as the public image
 * servers' nginx sends them.
 */
const LINK_MBIT = 160;
const linked = await startSimplestreamsServer({
  files: generated.files,
  identity,
  bytesPerSecond: (LINK_MBIT * 1e6) / 8,
});
const linkedGzip = await startSimplestreamsServer({
  files: generated.files,
  identity,
  bytesPerSecond: (LINK_MBIT * 1e6) / 8,
  gzip: true,
});
const caFile = join(dir, 'ca.pem');
await writeFile(caFile, server.ca);
const productsBytes = [...generated.files.values()].reduce((sum, body) => sum + body.length, 0);
console.log(
  `\nSimplestreams catalog: ${generated.versions} versions, ${(productsBytes / 1e6).toFixed(1)} MB of JSON on ${server.url}`,
);

/** A fresh lxc client (its own config and cache) with the bench server as a remote. */
async function lxcClient(name: string, url = server.url) {
  const env = { ...process.env, LXD_CONF: join(dir, name), SSL_CERT_FILE: caFile };
  await run('lxc', ['remote', 'add', 'bench', url, '--protocol', 'simplestreams', '--public'], {
    env,
  });
  return async (...filters: string[]) => {
    const { stdout } = await run(
      'lxc',
      ['image', 'list', 'bench:', ...filters, '--format', 'csv', '-c', 'f'],
      { env, maxBuffer: 256 * 1024 * 1024 },
    );
    return stdout.split('\n').filter((line) => line !== '').length;
  };
}

async function openHangar(dataDir: string): Promise<Hangar> {
  return createHangar({
    env: { LXD_DIR: join(dir, 'no-lxd'), LXD_CONF: join(dir, 'no-lxc') },
    dataDir,
    secrets: plaintextCodec('benchmark'),
    extraCa: server.ca,
  });
}

async function list(hangar: Hangar): Promise<LxdImage[]> {
  const envelope = await dispatch(hangar.handlers, 'images.list', { remote: 'bench' });
  if (!envelope.ok) throw new Error(envelope.error.message);
  return envelope.value as LxdImage[];
}

/** Adds the remote and lists it in a Hangar with nothing cached. */
async function addAndList(dataDir: string, url: string): Promise<void> {
  const hangar = await openHangar(dataDir);
  try {
    const added = await dispatch(hangar.handlers, 'remotes.add', {
      protocol: 'simplestreams',
      name: 'bench',
      addr: url,
    });
    if (!added.ok) throw new Error(added.error.message);
    await list(hangar);
  } finally {
    await hangar.close();
  }
}

try {
  const cold = { hangar: [] as number[], lxc: [] as number[] };
  const overLink = { hangar: [] as number[], lxc: [] as number[] };
  const overLinkGzip = { hangar: [] as number[], lxc: [] as number[] };
  const warm = { hangar: [] as number[], lxc: [] as number[] };
  const filtered = { hangar: [] as number[], lxc: [] as number[] };
  let counts = { hangar: 0, lxc: 0, hangarFiltered: 0, lxcFiltered: 0 };
  for (let i = 0; i < RUNS; i++) {
    // Cold: a new data directory and a new lxc config, so neither side has a cache.
    const dataDir = join(dir, `hangar-${i}`);
    cold.hangar.push(await time(() => addAndList(dataDir, server.url)));
    const lxc = await lxcClient(`lxc-${i}`);
    cold.lxc.push(await time(() => lxc()));
    overLink.hangar.push(await time(() => addAndList(join(dir, `linked-${i}`), linked.url)));
    const lxcLinked = await lxcClient(`lxc-linked-${i}`, linked.url);
    overLink.lxc.push(await time(() => lxcLinked()));
    overLinkGzip.hangar.push(await time(() => addAndList(join(dir, `gzip-${i}`), linkedGzip.url)));
    const lxcGzip = await lxcClient(`lxc-gzip-${i}`, linkedGzip.url);
    overLinkGzip.lxc.push(await time(() => lxcGzip()));

    // Warm: Hangar restarted on the same data (its on-disk cache, revalidated); lxc again.
    const hangar = await openHangar(dataDir);
    let images: LxdImage[] = [];
    warm.hangar.push(
      await time(async () => {
        images = await list(hangar);
      }),
    );
    let lxcCount = 0;
    warm.lxc.push(
      await time(async () => {
        lxcCount = await lxc();
      }),
    );

    let hangarFiltered = 0;
    filtered.hangar.push(
      await time(async () => {
        hangarFiltered = filterImages(await list(hangar), parseFilter(FILTER.join(' '))).length;
      }),
    );
    let lxcFiltered = 0;
    filtered.lxc.push(
      await time(async () => {
        lxcFiltered = await lxc(...FILTER);
      }),
    );
    counts = { hangar: images.length, lxc: lxcCount, hangarFiltered, lxcFiltered };
    await hangar.close();
  }
  report(`catalog cold (${generated.versions} versions)`, median(cold.hangar), median(cold.lxc));
  report(
    `catalog cold over a ${LINK_MBIT} Mbit/s link`,
    median(overLink.hangar),
    median(overLink.lxc),
  );
  report(
    `catalog cold over ${LINK_MBIT} Mbit/s, gzip-encoded`,
    median(overLinkGzip.hangar),
    median(overLinkGzip.lxc),
  );
  const gzipBytes = linkedGzip.requests
    .filter((request) => request.gzip)
    .map((request) => request.bytes);
  console.log(
    `gzip: the products file went over the link as ${(Math.max(...gzipBytes) / 1e6).toFixed(1)} MB (${(productsBytes / 1e6).toFixed(1)} MB as it is), to Hangar and to lxc alike (${gzipBytes.length} of ${linkedGzip.requests.length} requests answered gzip-encoded)`,
  );
  report('catalog warm (cached)', median(warm.hangar), median(warm.lxc));
  report(`catalog filter ${FILTER.join(' ')}`, median(filtered.hangar), median(filtered.lxc));
  console.log(
    `images listed: hangar ${counts.hangar}, lxc ${counts.lxc}; filtered: hangar ${counts.hangarFiltered}, lxc ${counts.lxcFiltered}`,
  );
  if (counts.hangar !== counts.lxc || counts.hangarFiltered !== counts.lxcFiltered)
    throw new Error('Hangar and lxc listed different images');
} finally {
  await server.close();
  await linked.close();
  await linkedGzip.close();
  await rm(dir, { recursive: true, force: true });
}
