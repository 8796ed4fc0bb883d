import { describe, expect, it } from 'vitest';
import type { LxdImage } from '../../shared/lxd.js';
import { nginxImportSnippet } from '../../shared/sharing.js';
import { detectFormat } from './export.js';
import { shareCommands } from './share.js';
import { addVersion, freeSerial, planProduct, segment, servedFingerprints } from './tree.js';

const image = (over: Partial<LxdImage>): LxdImage => ({
  fingerprint: 'a'.repeat(64),
  filename: 'x.tar.gz',
  size: 1,
  architecture: 'x86_64',
  public: false,
  auto_update: false,
  cached: false,
  type: 'container',
  created_at: '2024-06-01T05:24:00Z',
  uploaded_at: '2024-06-02T00:00:00Z',
  expires_at: '0001-01-01T00:00:00Z',
  last_used_at: '0001-01-01T00:00:00Z',
  properties: {},
  aliases: [],
  profiles: [],
  ...over,
});

describe('simplestreams tree', () => {
  it('makes products from properties, with defaults, and serials from dates', () => {
    expect(planProduct(image({}))).toMatchObject({
      key: 'unknown:unknown:amd64:default',
      serial: '20240601_0524',
    });
    const plan = planProduct(
      image({
        architecture: 'aarch64',
        properties: { os: 'Debian', release: '12', variant: 'cloud', serial: '20250101_01:02' },
        aliases: [
          { name: 'debian/12', description: '' },
          { name: 'a,b', description: '' },
        ],
      }),
    );
    expect(plan).toMatchObject({
      key: 'Debian:12:arm64:cloud',
      serial: '20250101_01:02',
      aliases: ['debian/12'],
    });
    expect(planProduct(image({ architecture: 'vax' }))).toHaveProperty('refused');
    expect(
      planProduct(image({ created_at: '0001-01-01T00:00:00Z', properties: { serial: 'x' } })),
    ).toMatchObject({ serial: '20240602_0000' });
    expect(segment('../..')).toBe('_._..');
    expect(segment('')).toBe('_');
    expect(segment('a/b c')).toBe('a_b_c');
  });

  it('moves aliases between products and keeps serials unique', () => {
    const products: Record<string, unknown> = {
      old: { aliases: 'x,y', versions: { '1': { items: {} } } },
    };
    const plan = planProduct(image({ aliases: [{ name: 'x', description: '' }] }));
    if ('refused' in plan) throw new Error(plan.refused);
    addVersion(products, plan, '20240601_0524', {
      'lxd_combined.tar.gz': { ftype: 'lxd_combined.tar.gz', sha256: 'f1' },
    });
    expect(products.old).toMatchObject({ aliases: 'y' });
    const product = products[plan.key] as Record<string, unknown>;
    expect(product.aliases).toBe('x');
    expect(freeSerial(product, '20240601_0524')).toBe('20240601_0524_2');
    expect([...servedFingerprints(products)]).toEqual(['f1']);
  });

  it('tells formats by content', () => {
    expect(detectFormat(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(detectFormat(Buffer.from('hsqs'))).toBe('squashfs');
    const tarHead = Buffer.alloc(512);
    tarHead.write('ustar', 257, 'latin1');
    expect(detectFormat(tarHead)).toBe('tar');
    expect(detectFormat(Buffer.from('nothing'))).toBeUndefined();
  });
});

describe('share commands', () => {
  it('exposes the API first when it is not, with the exact command', () => {
    const remote = shareCommands({
      remote: 'prod',
      local: false,
      remoteAddr: 'https://10.0.0.5:8443',
      httpsAddress: '',
      addresses: [],
    });
    expect(remote.map((command) => command.text)).toEqual([
      'lxc config set prod: core.https_address :8443',
      'lxc remote add prod https://10.0.0.5:8443 --public',
      'lxc image list prod:\nlxc launch prod:<alias> c1',
    ]);
    const exposed = shareCommands({
      remote: 'local',
      local: true,
      remoteAddr: 'unix:///var/lib/lxd/unix.socket',
      httpsAddress: '[::]:8443',
      addresses: ['192.0.2.1:8443'],
    });
    expect(exposed[0]?.text).toMatch(/^lxc remote add \S+ https:\/\/192\.0\.2\.1:8443 --public$/);
  });

  it('writes an nginx snippet with both headers', () => {
    const snippet = nginxImportSnippet({
      fingerprint: 'f'.repeat(64),
      fileName: 'i.tar.gz',
      host: 'h',
    });
    expect(snippet).toContain(`add_header LXD-Image-Hash ${'f'.repeat(64)} always;`);
    expect(snippet).toContain('add_header LXD-Image-URL https://h/images/i.tar.gz always;');
  });
});
