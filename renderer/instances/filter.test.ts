import { describe, expect, it } from 'vitest';
import type { InstanceSummary } from '../../shared/contract';
import { filterInstances } from './filter';

const instance = (name: string, extra: Partial<InstanceSummary> = {}): InstanceSummary => ({
  name,
  type: 'container',
  status: 'Stopped',
  ephemeral: false,
  description: '',
  baseImage: null,
  snapshots: [],
  created_at: '2026-01-01T00:00:00Z',
  config: {},
  ...extra,
});

const list = [
  instance('web1', { config: { 'image.os': 'Debian' }, baseImage: 'abcdef01' }),
  instance('db', { status: 'Running', type: 'virtual-machine', config: { 'user.role': 'db' } }),
];
const names = (filter: string) => filterInstances(list, filter).map(({ name }) => name);

describe('filterInstances', () => {
  it('matches a part of the name; every term must match', () => {
    expect(names('')).toEqual(['web1', 'db']);
    expect(names('WEB')).toEqual(['web1']);
    expect(names('web db')).toEqual([]);
  });
  it('matches key=value on type, status, image (a prefix) and config keys', () => {
    expect(names('status=running')).toEqual(['db']);
    expect(names('type=virtual')).toEqual(['db']);
    expect(names('image=abc')).toEqual(['web1']);
    expect(names('image=bcd')).toEqual([]);
    expect(names('image.os=debian')).toEqual(['web1']);
    expect(names('user.role=db web')).toEqual([]);
    expect(names('user.missing=x')).toEqual([]);
  });
});
