/**
 * One small image LXD can really import from a simplestreams server: split
 * (`lxd.tar.xz` + `root.tar.xz`, xz by the `xz` CLI) and unified
 * (`lxd_combined.tar.gz`). Same input, same bytes on one machine.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tar, type TarEntry } from '../sandbox/tar.js';

export interface RealImageFiles {
  metadata: Buffer;
  rootfs: Buffer;
  /** sha256(metadata || rootfs): the split image's fingerprint. */
  splitFingerprint: string;
  unified: Buffer;
  unifiedFingerprint: string;
}

const sha256 = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

function xz(data: Buffer): Buffer {
  return execFileSync('xz', ['--compress', '--stdout', '--threads=1', '-6', '--check=crc64'], {
    input: data,
    maxBuffer: 64 * 1024 * 1024,
  });
}

function metadataYaml(serial: string): string {
  return [
    'architecture: x86_64',
    'creation_date: 1700000000',
    'properties:',
    '  os: Hangar',
    '  release: fixture',
    `  serial: "${serial}"`,
    '  description: Hangar fixture image served over simplestreams',
    'templates: {}',
    '',
  ].join('\n');
}

function rootfsEntries(prefix: string): TarEntry[] {
  return [
    ...(prefix === '' ? [] : [{ path: prefix.replace(/\/$/, '') }]),
    { path: `${prefix}etc` },
    { path: `${prefix}etc/hostname`, content: 'hangar-fixture\n' },
    { path: `${prefix}etc/os-release`, content: 'NAME="Hangar"\nVERSION_ID="fixture"\n' },
  ];
}

export function buildRealImage(serial: string): RealImageFiles {
  const metadataEntry = { path: 'metadata.yaml', content: metadataYaml(serial) };
  const metadata = xz(tar([metadataEntry, { path: 'templates' }]));
  const rootfs = xz(tar(rootfsEntries('')));
  const unified = gzipSync(
    tar([metadataEntry, { path: 'templates' }, ...rootfsEntries('rootfs/')]),
  );
  return {
    metadata,
    rootfs,
    splitFingerprint: sha256(metadata, rootfs),
    unified,
    unifiedFingerprint: sha256(unified),
  };
}
