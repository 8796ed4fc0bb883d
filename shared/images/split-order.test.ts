import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { entryRole, roleFromEntries, splitOrder, tarHeadPaths } from './split-order';

const run = promisify(execFile);

describe('which file of a split image is the metadata', () => {
  it('reads a role from the paths of the entries', () => {
    expect(entryRole('metadata.yaml')).toBe('metadata');
    expect(entryRole('./metadata.yaml')).toBe('metadata');
    expect(entryRole('templates/hostname.tpl')).toBe('metadata');
    expect(entryRole('./templates/')).toBe('metadata');
    expect(entryRole('./etc/hostname')).toBe('rootfs');
    expect(entryRole('bin')).toBe('rootfs');
    expect(entryRole('./')).toBeUndefined();
    expect(entryRole('etc.metadata.yaml')).toBeUndefined();
    expect(entryRole('rootfs/etc/metadata.yaml')).toBeUndefined();
    expect(roleFromEntries(['./', 'README', 'templates/a.tpl'], false)).toBe('metadata');
    expect(roleFromEntries(['./', 'hello'], false)).toBeUndefined();
    // A whole tarball with nothing that says "metadata" is not the metadata.
    expect(roleFromEntries(['./', 'hello'], true)).toBe('rootfs');
  });

  it('decides by content, and by size only when the content cannot tell', () => {
    const big = 10_000;
    const small = 10;
    expect(splitOrder({ role: 'rootfs', size: small }, { role: 'metadata', size: big })).toEqual({
      metadata: 1,
      by: 'content',
    });
    expect(splitOrder({ role: 'metadata', size: big }, { role: undefined, size: small })).toEqual({
      metadata: 0,
      by: 'content',
    });
    // One file is a rootfs: the other one is the metadata, even unread (an xz tarball in a browser).
    expect(splitOrder({ role: undefined, size: big }, { role: 'rootfs', size: small })).toEqual({
      metadata: 0,
      by: 'content',
    });
    expect(splitOrder({ role: undefined, size: big }, { role: undefined, size: small })).toEqual({
      metadata: 1,
      by: 'size',
    });
    expect(splitOrder({ role: 'rootfs', size: big }, { role: 'rootfs', size: small })).toEqual({
      metadata: 1,
      by: 'size',
    });
    expect(splitOrder({ role: undefined, size: 5 }, { role: undefined, size: 5 })).toEqual({
      metadata: 0,
      by: 'size',
    });
  });

  it("lists the entries of GNU tar's gnu, pax and ustar archives, long names included", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hangar-split-order-'));
    try {
      const long = `${'a-long-directory-name-'.repeat(4)}/${'and-a-long-file-name-'.repeat(4)}.tpl`;
      await mkdir(join(dir, 'root', 'templates', long.split('/')[0] ?? ''), { recursive: true });
      await writeFile(join(dir, 'root', 'metadata.yaml'), 'architecture: x86_64\n');
      await writeFile(join(dir, 'root', 'templates', long), 'x'.repeat(2000));
      for (const format of ['gnu', 'pax', 'ustar']) {
        const out = join(dir, `${format}.tar`);
        await run('tar', [
          '-C',
          join(dir, 'root'),
          '-c',
          `--format=${format}`,
          '--sort=name',
          '-f',
          out,
          'templates',
          'metadata.yaml',
        ]);
        const data = new Uint8Array(await readFile(out));
        expect(tarHeadPaths(data), format).toEqual({
          paths: [
            'templates/',
            `templates/${long.split('/')[0] ?? ''}/`,
            `templates/${long}`,
            'metadata.yaml',
          ],
          complete: true,
        });
        // The first bytes only: what they hold, and not complete.
        expect(tarHeadPaths(data.subarray(0, 1024)).complete, format).toBe(false);
        expect(tarHeadPaths(data, 1).paths, format).toEqual(['templates/']);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
