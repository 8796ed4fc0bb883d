import { describe, expect, it } from 'vitest';
import type { Handlers } from '../shared/contract.js';
import { HangarError } from '../shared/errors.js';
import { dispatch } from './dispatch.js';

const seen: unknown[] = [];
const handlers = {
  'remotes.list': () => Promise.resolve([]),
  'remotes.status': () => Promise.resolve({ state: 'connecting' as const }),
  'projects.list': () =>
    Promise.reject(new HangarError('lxd-error', 'not allowed', { status: 403 })),
  'images.list': (input: unknown) => {
    seen.push(input);
    return Promise.resolve([]);
  },
  'images.get': () => Promise.reject(new Error('boom')),
} as unknown as Handlers;

describe('dispatch (every IPC and bridge call goes through it)', () => {
  it('refuses names outside the contract', async () => {
    expect(await dispatch(handlers, 'images.format', {})).toEqual({
      ok: false,
      error: { code: 'unknown-call', message: 'Unknown call "images.format".' },
    });
    expect((await dispatch(handlers, 'constructor', {})).ok).toBe(false);
    expect((await dispatch(handlers, 42, {})).ok).toBe(false);
  });

  it('validates input against the call schema before the handler runs', async () => {
    seen.length = 0;
    const missing = await dispatch(handlers, 'images.list', {});
    expect(missing).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    const extra = await dispatch(handlers, 'images.list', { remote: 'local', secret: 'x' });
    expect(extra).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    const badFingerprint = await dispatch(handlers, 'images.get', {
      remote: 'local',
      fingerprint: '../etc',
    });
    expect(badFingerprint).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(seen).toEqual([]);
    expect(
      await dispatch(handlers, 'images.list', { remote: 'local', project: 'default' }),
    ).toEqual({ ok: true, value: [] });
    expect(seen).toEqual([{ remote: 'local', project: 'default' }]);
  });

  it('returns errors as values with their user-facing message and status', async () => {
    expect(await dispatch(handlers, 'projects.list', { remote: 'local' })).toEqual({
      ok: false,
      error: { code: 'lxd-error', message: 'not allowed', status: 403 },
    });
    expect(await dispatch(handlers, 'images.get', { remote: 'local', fingerprint: 'abc' })).toEqual(
      {
        ok: false,
        error: { code: 'internal', message: 'boom' },
      },
    );
  });
});

describe('dispatch per transport', () => {
  const calls: string[] = [];
  const paths = {
    'images.importFiles': () => {
      calls.push('import');
      return Promise.resolve(null);
    },
    'images.export': () => {
      calls.push('export');
      return Promise.resolve(null);
    },
  } as unknown as Handlers;
  const byPath = {
    remote: 'local',
    files: [{ path: '/etc/shadow' }],
    aliases: [],
    public: false,
    properties: {},
  };
  const intoFolder = { remote: 'local', fingerprint: 'abc', directory: '/root' };

  it('lets the desktop app (IPC) name paths, and refuses them to the web bridge', async () => {
    expect(await dispatch(paths, 'images.importFiles', byPath, 'ipc')).toEqual({
      ok: true,
      value: null,
    });
    expect(await dispatch(paths, 'images.export', intoFolder)).toEqual({ ok: true, value: null });
    expect(calls).toEqual(['import', 'export']);
    calls.length = 0;
    expect(await dispatch(paths, 'images.importFiles', byPath, 'web')).toMatchObject({
      ok: false,
      error: {
        code: 'invalid-input',
        message: expect.stringMatching(
          /^In web mode Hangar imports only files the browser uploaded/,
        ) as unknown,
      },
    });
    expect(await dispatch(paths, 'images.export', intoFolder, 'web')).toMatchObject({
      ok: false,
      error: { code: 'invalid-input' },
    });
    expect(calls).toEqual([]);
  });
});
