/**
 * Fixture images the project builds itself: small, deterministic, and
 * covering what the image screens must show (unified and split layouts,
 * several aliases, non-ASCII and spaced properties, a public image, two
 * architectures).
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { dump } from 'js-yaml';
import type { SandboxDaemon } from './daemon.js';
import { tar, type TarEntry } from './tar.js';
import { uploadImage } from './upload.js';

export interface FixtureImage {
  key: string;
  layout: 'unified' | 'split';
  architecture: 'x86_64' | 'aarch64';
  public: boolean;
  aliases: { name: string; description: string }[];
  /** metadata.yaml properties; LXD copies them onto the image. */
  properties: Record<string, string>;
}

export const FIXTURES: FixtureImage[] = [
  {
    key: 'unified',
    layout: 'unified',
    architecture: 'x86_64',
    public: false,
    aliases: [{ name: 'fixture/unified', description: '' }],
    properties: {
      os: 'Debian',
      release: 'bookworm',
      variant: 'default',
      description: 'Debian bookworm amd64 (unified)',
    },
  },
  {
    key: 'split',
    layout: 'split',
    architecture: 'x86_64',
    public: false,
    aliases: [{ name: 'fixture/split', description: 'metadata and rootfs in two files' }],
    properties: {
      os: 'Alpine',
      release: '3.20',
      variant: 'default',
      description: 'Alpine 3.20 amd64 (split)',
    },
  },
  {
    key: 'multi',
    layout: 'unified',
    architecture: 'x86_64',
    public: false,
    aliases: [
      { name: 'noble', description: 'the current LTS' },
      { name: 'ubuntu/24.04', description: 'by version' },
      { name: 'ubuntu/lts', description: '' },
    ],
    properties: {
      os: 'Ubuntu',
      release: 'noble',
      version: '24.04',
      description: 'Ubuntu 24.04 LTS amd64 (several aliases)',
    },
  },
  {
    key: 'unicode',
    layout: 'unified',
    architecture: 'x86_64',
    public: false,
    aliases: [{ name: 'fixture/unicode', description: 'Ünïcödé alias description' }],
    properties: {
      os: 'Debian',
      release: 'trixie',
      description: 'Café crème — spaces and ünïcode',
      'user.note': '日本語のメモ with  two spaces',
      'user.empty value': '',
    },
  },
  {
    key: 'public',
    layout: 'unified',
    architecture: 'x86_64',
    public: true,
    aliases: [{ name: 'fixture/public', description: '' }],
    properties: { os: 'Busybox', release: '1.36', description: 'Busybox 1.36 amd64 (public)' },
  },
  {
    key: 'arm64',
    layout: 'unified',
    architecture: 'aarch64',
    public: false,
    aliases: [{ name: 'fixture/arm64', description: '' }],
    properties: {
      os: 'Debian',
      release: 'bookworm',
      architecture: 'arm64',
      description: 'Debian bookworm arm64 (metadata only)',
    },
  },
];

export interface BuiltFixture extends FixtureImage {
  fingerprint: string;
  /** One file (unified) or metadata then rootfs (split). */
  files: string[];
  size: number;
}

function metadataYaml(image: FixtureImage): string {
  return dump({
    architecture: image.architecture,
    creation_date: 1_700_000_000,
    properties: image.properties,
  });
}

function rootfsEntries(image: FixtureImage, prefix: string): TarEntry[] {
  const root = prefix === '' ? [] : [{ path: prefix.replace(/\/$/, '') }];
  return [
    ...root,
    { path: `${prefix}etc` },
    { path: `${prefix}etc/hostname`, content: `${image.key}\n` },
    {
      path: `${prefix}etc/os-release`,
      content: `NAME="${image.properties.os ?? ''}"\nVERSION_ID="${image.properties.release ?? ''}"\n`,
    },
  ];
}

/** Writes the fixture files into `dir` and returns them with their fingerprints. */
export async function buildFixtures(dir: string): Promise<BuiltFixture[]> {
  await mkdir(dir, { recursive: true });
  const built: BuiltFixture[] = [];
  for (const image of FIXTURES) {
    const metadata = { path: 'metadata.yaml', content: metadataYaml(image) };
    const templates = { path: 'templates' };
    const parts =
      image.layout === 'unified'
        ? [gzipSync(tar([metadata, templates, ...rootfsEntries(image, 'rootfs/')]))]
        : [gzipSync(tar([metadata, templates])), gzipSync(tar(rootfsEntries(image, '')))];
    const names =
      image.layout === 'unified'
        ? [`${image.key}.tar.gz`]
        : [`${image.key}.meta.tar.gz`, `${image.key}.rootfs.tar.gz`];
    const hash = createHash('sha256');
    const files: string[] = [];
    for (const [index, part] of parts.entries()) {
      const file = join(dir, names[index] ?? `${image.key}.${index}`);
      await writeFile(file, part);
      hash.update(part);
      files.push(file);
    }
    built.push({
      ...image,
      fingerprint: hash.digest('hex'),
      files,
      size: parts.reduce((sum, part) => sum + part.length, 0),
    });
  }
  return built;
}

/** Loads the fixtures (independently of Hangar's own code); skips ones already there. */
export async function loadFixtures(daemon: SandboxDaemon, fixtures: BuiltFixture[]): Promise<void> {
  const listed = await daemon.lxc(['image', 'list', '--format', 'csv', '--columns', 'F']);
  const present = new Set(listed.split('\n'));
  for (const image of fixtures) {
    if (present.has(image.fingerprint)) continue;
    await uploadImage(daemon.socket, image.files, { public: image.public, aliases: image.aliases });
  }
}
