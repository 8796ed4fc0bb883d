import { describe, expect, it } from 'vitest';
import type { LxdImage } from '../lxd.js';
import { applyChanges, planChanges } from './changes.js';

const image = (fingerprint: string, aliases: string[] = []): LxdImage =>
  ({ fingerprint, aliases: aliases.map((name) => ({ name, description: '' })) }) as LxdImage;

describe('planning the reads for a batch of lifecycle events', () => {
  it('reads just the images named, drops deleted ones, and reads aliases once', () => {
    const plan = planChanges([
      { action: 'image-created', fingerprint: 'aa' },
      { action: 'image-alias-created' },
      { action: 'image-alias-created' },
      { action: 'image-updated', fingerprint: 'bb' },
      { action: 'image-deleted', fingerprint: 'cc' },
    ]);
    expect(plan).toEqual({
      reload: false,
      removed: new Set(['cc']),
      fetch: new Set(['aa', 'bb']),
      aliases: true,
    });
  });

  it('lets the last event about an image win', () => {
    const created = planChanges([
      { action: 'image-deleted', fingerprint: 'aa' },
      { action: 'image-created', fingerprint: 'aa' },
    ]);
    expect([created.removed.size, [...created.fetch]]).toEqual([0, ['aa']]);
    const deleted = planChanges([
      { action: 'image-created', fingerprint: 'aa' },
      { action: 'image-deleted', fingerprint: 'aa' },
    ]);
    expect([[...deleted.removed], deleted.fetch.size]).toEqual([['aa'], 0]);
  });

  it('falls back to a full reload for an image event without a fingerprint', () => {
    expect(planChanges([{ action: 'image-refreshed' }]).reload).toBe(true);
  });
});

describe('applying what was read', () => {
  it('removes, replaces and adds images', () => {
    const before = [image('aa'), image('bb'), image('cc')];
    const fresh = { ...image('bb'), size: 42 };
    const after = applyChanges(before, { removed: ['cc'], fetched: [fresh, image('dd')] });
    expect(after.map((i) => i.fingerprint)).toEqual(['aa', 'bb', 'dd']);
    expect(after[1]?.size).toBe(42);
    expect(before).toHaveLength(3);
  });

  it('rebuilds every image’s aliases from the alias list', () => {
    const after = applyChanges([image('aa', ['old']), image('bb', ['gone'])], {
      removed: [],
      fetched: [],
      aliases: [
        { name: 'one', description: 'first', target: 'aa' },
        { name: 'two', description: '', target: 'aa' },
      ],
    });
    expect(after.map((i) => [i.fingerprint, i.aliases.map((a) => a.name)])).toEqual([
      ['aa', ['one', 'two']],
      ['bb', []],
    ]);
  });
});
