/**
 * Hangar's filter against the `lxc image list` installed here, on the same
 * daemon and images: each term list must select exactly the same images.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { LxdClient } from '../../electron/lxd/client.js';
import type { LxdImage } from '../lxd.js';
import { filterImages } from './filter.js';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const fingerprintOf = (key: string) =>
  sandbox.fixtures.find((f) => f.key === key)?.fingerprint ?? 'missing';
const split = fingerprintOf('split');
const multi = fingerprintOf('multi');

const corpus: string[][] = [
  ['fixture'],
  ['FIXTURE'],
  ['noble'],
  ['ubuntu/'],
  ['/'],
  [split.slice(0, 12)],
  [split.slice(20, 30)],
  [split.toUpperCase().slice(0, 12)],
  ['os=Debian'],
  ['os=debian'],
  ['os=Deb'],
  ['os=Deb.*'],
  ['os=^Deb'],
  ['os=ian$'],
  ['os='],
  ['=Debian'],
  ['o=Debian'],
  ['rel=3\\.20'],
  ['release=3.2'],
  ['release=3.20|bookworm'],
  ['user.note=日本語.*'],
  ['u.n=.*two  spaces'],
  ['user.empty value='],
  ['description=Café.*'],
  ['description=Alpine 3.20 amd64 (split)'],
  ['os=(Debian'],
  ['variant=default'],
  ['architecture=aarch64'],
  ['architecture=AARCH64'],
  ['architecture=arm64'],
  ['architecture=^x86'],
  ['architecture=x86_64|aarch64'],
  ['arch=arm64'],
  ['type=container'],
  ['type=CONTAINER'],
  ['type=virtual-machine'],
  [`fingerprint=${multi.toUpperCase()}`],
  [`fingerprint=${multi.slice(0, 12)}`],
  [`fingerprint=${multi.slice(0, 12)}.*`],
  ['filename=multi\\.tar\\.gz'],
  ['filename=MULTI.TAR.GZ'],
  ['public=true'],
  ['public=false'],
  ['cached=false'],
  ['aliases=noble'],
  ['profiles=default'],
  ['properties.os=Debian'],
  ['os=Debian', 'architecture=x86_64'],
  ['fixture', 'os=Debian'],
  ['noble', 'os=Ubuntu', 'type=container'],
  ['architecture=x86_64', 'architecture=aarch64'],
  ['fixture/', 'release=bookworm', 'variant=default'],
];

describe('the filter selects what `lxc image list` selects', async () => {
  const client = new LxdClient({ kind: 'unix', socketPath: join(sandbox.localDir, 'unix.socket') });
  const images = await client.get<LxdImage[]>('/1.0/images', { query: { recursion: '1' } });
  await client.close();

  it.each(corpus.map((terms) => [terms.join(' '), terms] as const))('%s', async (_name, terms) => {
    const { stdout } = await run(
      'lxc',
      ['image', 'list', ...terms, '--format', 'csv', '--columns', 'F'],
      {
        env: { ...process.env, LXD_DIR: sandbox.localDir },
      },
    );
    const fromLxc = stdout
      .split('\n')
      .filter((line) => line !== '')
      .sort();
    const fromHangar = filterImages(images, terms)
      .map((image) => image.fingerprint)
      .sort();
    expect(fromHangar).toEqual(fromLxc);
  });

  it('the corpus is not trivially empty or full', () => {
    const sizes = corpus.map((terms) => filterImages(images, terms).length);
    expect(sizes.filter((size) => size === 0).length).toBeGreaterThan(5);
    expect(sizes.filter((size) => size > 0 && size < images.length).length).toBeGreaterThan(15);
  });
});
