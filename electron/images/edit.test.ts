/**
 * Changing images on a real daemon, checked with lxc: the document and its
 * ETag (lxc image edit), aliases, the instances made from images, deleting
 * images, and who may do any of it. Images are imported into a project of
 * their own on the local daemon, so other tests' lists stay as they were.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  ImageAccess,
  ImageForEdit,
  ImageUsage,
  OperationSummary,
} from '../../shared/contract.js';
import type { Envelope, HangarErrorData } from '../../shared/errors.js';
import { HangarError } from '../../shared/errors.js';
import type { AliasEntry } from '../../shared/images/changes.js';
import type { LxdImage } from '../../shared/lxd.js';
import { documentOf, type ImageDocument } from '../../shared/images/document.js';
import { deleteProject } from '../../scripts/sandbox/projects.js';
import { dispatch } from '../dispatch.js';
import { createHangar, type Hangar } from '../hangar.js';
import { LxdClient, errorCodeOf } from '../lxd/client.js';
import { watchOperation } from '../operations/watch.js';
import { plaintextCodec } from '../remotes/identity.js';

const sandbox = inject('sandbox');
const project = `edit-${process.pid}`;
const fixture = (key: string) => {
  const found = sandbox.fixtures.find((candidate) => candidate.key === key);
  if (found === undefined) throw new Error(`no fixture ${key}`);
  return found;
};
const unified = fixture('unified');
const split = fixture('split');
const unicode = fixture('unicode');

const lxc = async (lxdDir: string, args: string[], input?: string) =>
  new Promise<string>((resolve, reject) => {
    const child = execFile(
      'lxc',
      args,
      { env: { ...process.env, LXD_DIR: lxdDir } },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else reject(new Error(`lxc ${args.join(' ')}: ${stderr || error.message}`));
      },
    );
    child.stdin?.end(input ?? '');
  });
const lxcLocal = (...args: string[]) => lxc(sandbox.localDir, args);
const inProject = (...args: string[]) => lxcLocal(...args, '--project', project);
const show = (fingerprint: string) => inProject('image', 'show', fingerprint);
/** `lxc image edit <fingerprint> < yaml`, as someone else at a terminal would. */
const lxcEdit = async (
  fingerprint: string,
  change: (document: Record<string, unknown>) => void,
) => {
  const document = load(await show(fingerprint)) as Record<string, unknown>;
  change(document);
  await lxc(sandbox.localDir, ['image', 'edit', fingerprint, '--project', project], dump(document));
};
const aliasesInProject = async () =>
  Object.fromEntries(
    (await inProject('image', 'alias', 'list', '--format', 'csv'))
      .split('\n')
      .filter(Boolean)
      // NAME,FINGERPRINT,TYPE,DESCRIPTION
      .map((line) => line.split(','))
      .map(([name = '', short = '', , description = '']) => [name, { short, description }]),
  );

let hangar: Hangar;
let dir: string;

async function call<T>(name: string, input: unknown): Promise<T> {
  const envelope = (await dispatch(hangar.handlers, name, input)) as Envelope<T>;
  if (!envelope.ok) throw new Error(`${envelope.error.code}: ${envelope.error.message}`);
  return envelope.value;
}

async function refused(name: string, input: unknown): Promise<HangarErrorData> {
  const envelope = await dispatch(hangar.handlers, name, input);
  if (envelope.ok) throw new Error(`${name} was accepted`);
  return envelope.error;
}

const local = { remote: 'local', project };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-edit-'));
  await lxcLocal('project', 'create', project, '-c', 'features.profiles=false');
  await inProject('image', 'import', ...unified.files, '--alias', 'edit/unified');
  await inProject('image', 'import', ...split.files);
  await inProject('image', 'import', ...unicode.files);
  hangar = await createHangar({
    env: { LXD_DIR: sandbox.localDir, HOME: dir },
    dataDir: join(dir, 'data'),
    secrets: plaintextCodec('test'),
  });
});

afterAll(async () => {
  await hangar.close();
  await deleteProject(sandbox.localDir, project);
  // The restricted client of the access test, then its project on the second daemon.
  const trusted = await lxc(sandbox.remoteDir, ['config', 'trust', 'list', '--format', 'csv']);
  for (const line of trusted.split('\n'))
    if (line.includes(`hangar-edit-${process.pid}`)) {
      const fingerprint = line.split(',').find((field) => /^[0-9a-f]{12,}$/.test(field));
      if (fingerprint !== undefined)
        await lxc(sandbox.remoteDir, ['config', 'trust', 'remove', fingerprint]);
    }
  await lxc(sandbox.remoteDir, ['project', 'delete', project]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('the document (lxc image edit)', () => {
  it('is read with its ETag and saved as lxc shows it: spaces, non-ASCII, "1.10", public, auto_update, expires_at, profiles', async () => {
    const opened = await call<ImageForEdit>('images.document', {
      ...local,
      fingerprint: unicode.fingerprint.slice(0, 12),
    });
    expect(opened.image.fingerprint).toBe(unicode.fingerprint);
    expect(opened.image.properties['user.note']).toBe('日本語のメモ with  two spaces');
    // LXD's ETag, then Hangar's hash of expires_at and profiles (which LXD 5.0's leaves out).
    expect(opened.etag).toMatch(/^"[0-9a-f]{64}";[0-9a-f]{16}$/);

    const document: ImageDocument = {
      ...documentOf(opened.image),
      properties: {
        ...opened.image.properties,
        'user.with space': 'two  spaces ',
        'user.ünïcödé': 'Crème brûlée — 日本語',
        version: '1.10',
      },
      public: true,
      auto_update: true,
      expires_at: '2031-02-03T04:05:06Z',
      profiles: [],
    };
    const saved = await call<ImageForEdit>('images.update', {
      ...local,
      fingerprint: unicode.fingerprint,
      etag: opened.etag,
      document,
    });
    expect(saved.etag).not.toBe(opened.etag);
    // LXD 5.0 drops a property whose value is empty (as with lxc image edit); the rest is kept.
    const { 'user.empty value': empty, ...kept } = document.properties;
    expect(empty).toBe('');
    expect(documentOf(saved.image)).toEqual({ ...document, properties: kept });

    const shown = await show(unicode.fingerprint);
    // go-yaml quotes what it would otherwise read back as a number.
    expect(shown).toContain('version: "1.10"');
    expect(shown).toContain('expires_at: 2031-02-03T04:05:06Z');
    const parsed = load(shown) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      auto_update: true,
      public: true,
      profiles: [],
      properties: kept,
    });

    // The new ETag is the one to save over next.
    const again = await call<ImageForEdit>('images.update', {
      ...local,
      fingerprint: unicode.fingerprint,
      etag: saved.etag,
      document: { ...document, public: false, profiles: ['default'] },
    });
    expect(again.image).toMatchObject({ public: false, profiles: ['default'] });
    expect(load(await show(unicode.fingerprint))).toMatchObject({
      public: false,
      profiles: ['default'],
    });
  });

  it('is not saved over a change made meanwhile with lxc image edit, even to profiles only', async () => {
    const opened = await call<ImageForEdit>('images.document', {
      ...local,
      fingerprint: unified.fingerprint,
    });
    const mine = {
      ...documentOf(opened.image),
      properties: { ...opened.image.properties, 'user.by': 'hangar' },
    };
    await lxcEdit(unified.fingerprint, (document) => {
      (document.properties as Record<string, string>)['user.by'] = 'lxc';
    });
    const error = await refused('images.update', {
      ...local,
      fingerprint: unified.fingerprint,
      etag: opened.etag,
      document: mine,
    });
    expect(error).toMatchObject({ code: 'outdated', status: 412 });
    expect(error.message).toBe(
      `The image "edit/unified" (${unified.fingerprint.slice(0, 12)}) changed on local (project ${project}) since you opened it (someone else edited it, perhaps with lxc image edit). Nothing was saved: look at the new version, then save your changes again.`,
    );
    expect(load(await show(unified.fingerprint))).toMatchObject({
      properties: { 'user.by': 'lxc' },
    });

    // LXD 5.0's ETag does not change with profiles or expires_at; Hangar's does.
    const reopened = await call<ImageForEdit>('images.document', {
      ...local,
      fingerprint: unified.fingerprint,
    });
    await lxcEdit(unified.fingerprint, (document) => {
      document.profiles = [];
    });
    expect(
      await refused('images.update', {
        ...local,
        fingerprint: unified.fingerprint,
        etag: reopened.etag,
        document: { ...documentOf(reopened.image), public: true },
      }),
    ).toMatchObject({ code: 'outdated' });
    expect(load(await show(unified.fingerprint))).toMatchObject({ public: false, profiles: [] });
  });

  it('maps LXD 5.0 answering 412 to If-Match to "outdated"', async () => {
    const client = new LxdClient({
      kind: 'unix',
      socketPath: join(sandbox.localDir, 'unix.socket'),
    });
    try {
      const error = await client
        .request(`/1.0/images/${split.fingerprint}`, {
          method: 'PUT',
          project,
          headers: { 'if-match': '"0000"' },
          body: documentOf(
            await client.get<LxdImage>(`/1.0/images/${split.fingerprint}`, { project }),
          ),
        })
        .then(
          () => undefined,
          (failure: unknown) => failure,
        );
      expect(error).toBeInstanceOf(HangarError);
      expect(error).toMatchObject({ code: 'outdated', status: 412 });
    } finally {
      await client.close();
    }
    expect([404, 409, 412, 400, 403, 500].map(errorCodeOf)).toEqual([
      'not-found',
      'conflict',
      'outdated',
      'lxd-error',
      'lxd-error',
      'lxd-error',
    ]);
  });
});

describe('aliases', () => {
  it('are created, refused when taken, described, moved, renamed and deleted, as lxc lists them', async () => {
    const name = 'edit/50%/a';
    await call('images.aliasCreate', {
      ...local,
      name,
      target: unified.fingerprint,
      description: 'first',
    });
    expect((await aliasesInProject())[name]).toEqual({
      short: unified.fingerprint.slice(0, 12),
      description: 'first',
    });

    const taken = await refused('images.aliasCreate', {
      ...local,
      name,
      target: split.fingerprint,
      description: 'second',
    });
    expect(taken).toMatchObject({
      code: 'conflict',
      status: 409,
      message: `The alias "${name}" already exists in local (project ${project}): nothing was changed. Choose another name, or move that alias to this image.`,
    });
    expect((await aliasesInProject())[name]).toEqual({
      short: unified.fingerprint.slice(0, 12),
      description: 'first',
    });

    await call('images.aliasUpdate', {
      ...local,
      name,
      target: unified.fingerprint,
      description: 'Ünïcödé description',
    });
    expect((await aliasesInProject())[name]?.description).toBe('Ünïcödé description');

    // One request moves it and keeps its description.
    await call('images.aliasUpdate', {
      ...local,
      name,
      target: split.fingerprint,
      description: 'Ünïcödé description',
    });
    expect((await aliasesInProject())[name]).toEqual({
      short: split.fingerprint.slice(0, 12),
      description: 'Ünïcödé description',
    });

    await call('images.aliasRename', { ...local, name, newName: 'edit/renamed' });
    let aliases = await aliasesInProject();
    expect(aliases[name]).toBeUndefined();
    expect(aliases['edit/renamed']?.short).toBe(split.fingerprint.slice(0, 12));

    const onto = await refused('images.aliasRename', {
      ...local,
      name: 'edit/renamed',
      newName: 'edit/unified',
    });
    expect(onto).toMatchObject({
      code: 'conflict',
      message: `The alias "edit/unified" already exists in local (project ${project}): "edit/renamed" was not renamed.`,
    });
    aliases = await aliasesInProject();
    expect(aliases['edit/renamed']?.short).toBe(split.fingerprint.slice(0, 12));
    expect(aliases['edit/unified']?.short).toBe(unified.fingerprint.slice(0, 12));

    await call('images.aliasDelete', { ...local, name: 'edit/renamed' });
    expect(Object.keys(await aliasesInProject())).toEqual(['edit/unified']);
    // The contract's aliases agree (names from the objects, not LXD 5.0's twice-encoded URLs).
    expect((await call<AliasEntry[]>('images.aliases', local)).map((alias) => alias.name)).toEqual([
      'edit/unified',
    ]);
  }, 60_000);

  it('that do not exist are named in the error, and nothing changes', async () => {
    const missing = `local (project ${project}) has no alias "edit/none" (it may have been renamed or deleted meanwhile): nothing was changed.`;
    for (const [name, input] of [
      ['images.aliasDelete', { name: 'edit/none' }],
      ['images.aliasRename', { name: 'edit/none', newName: 'edit/other' }],
      ['images.aliasUpdate', { name: 'edit/none', target: split.fingerprint, description: '' }],
    ] as const)
      expect(await refused(name, { ...local, ...input })).toMatchObject({
        code: 'not-found',
        message: missing,
      });
    expect(
      await refused('images.aliasCreate', {
        ...local,
        name: 'edit/nowhere',
        target: 'abcdef0123',
        description: '',
      }),
    ).toMatchObject({
      code: 'not-found',
      message: `local (project ${project}) has no image abcdef0123: the alias "edit/nowhere" was not changed.`,
    });
    expect(Object.keys(await aliasesInProject())).toEqual(['edit/unified']);
  });
});

describe('usage and delete', () => {
  it('lists the instances made from an image, by short or full fingerprint', async () => {
    await inProject('init', split.fingerprint, 'c1');
    const usage = await call<ImageUsage[]>('images.usage', {
      ...local,
      fingerprints: [split.fingerprint.slice(0, 12), unified.fingerprint],
    });
    expect(usage).toEqual([
      { fingerprint: split.fingerprint, instances: [{ name: 'c1', project }] },
      { fingerprint: unified.fingerprint, instances: [] },
    ]);
    const unknown = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f']
      .map((digit) => digit.repeat(8))
      .find((prefix) => !sandbox.fixtures.some((f) => f.fingerprint.startsWith(prefix)));
    expect(await refused('images.usage', { ...local, fingerprints: [unknown] })).toMatchObject({
      code: 'not-found',
      message: `local (project ${project}) has no image ${unknown}.`,
    });
  });

  it('deletes two images in one operation, one of them already deleted with lxc meanwhile', async () => {
    const goneMeanwhile = unicode.fingerprint;
    await inProject('image', 'delete', goneMeanwhile);
    const started = await call<OperationSummary>('images.delete', {
      ...local,
      fingerprints: [split.fingerprint.slice(0, 12), goneMeanwhile],
    });
    expect(started).toMatchObject({
      kind: 'delete',
      state: 'running',
      title: `Delete 2 images from local (project ${project})`,
      command: `lxc image delete local:${split.fingerprint.slice(0, 12)} local:${goneMeanwhile} --project ${project}`,
    });
    const done = await watchOperation(hangar.handlers, started.id, { timeoutMs: 30_000 });
    const note = `Deleted 1 image; 1 image was already gone, deleted meanwhile by someone else (${goneMeanwhile.slice(0, 12)}).`;
    expect(done).toMatchObject({
      state: 'succeeded',
      result: { remote: 'local', project, skipped: [goneMeanwhile], message: note },
      progress: { stage: note, percent: 100 },
    });
    expect(done.error).toBeUndefined();
    const left = (await inProject('image', 'list', '--format', 'csv', '-c', 'F'))
      .split('\n')
      .filter(Boolean);
    expect(left).toEqual([unified.fingerprint]);
    // The instance made from it keeps working.
    expect(await inProject('list', '--format', 'csv', '-c', 'n')).toBe('c1\n');
  });
});

describe('access', () => {
  it('is editable on the local daemon, with the cache expiry of the project or the server', async () => {
    expect(await call<ImageAccess>('images.access', { remote: 'local' })).toEqual({
      editable: true,
      cacheExpiryDays: 10,
    });
    await lxcLocal('project', 'set', project, 'images.remote_cache_expiry', '3');
    expect(await call<ImageAccess>('images.access', local)).toEqual({
      editable: true,
      cacheExpiryDays: 3,
    });
  });

  it('is read-only on a simplestreams server and on a public-only LXD remote, saying why', async () => {
    expect(await call<ImageAccess>('images.access', { remote: 'images' })).toEqual({
      editable: false,
      reason: 'images is a simplestreams image server: its images are read-only.',
    });
    const probe = await call<{ certificate: { fingerprint: string } }>('remotes.probe', {
      addr: sandbox.remoteHttps,
    });
    await call('remotes.add', {
      protocol: 'lxd',
      name: 'public-second',
      addr: sandbox.remoteHttps,
      acceptedFingerprint: probe.certificate.fingerprint,
      auth: { method: 'public' },
    });
    const access = await call<ImageAccess>('images.access', { remote: 'public-second' });
    expect(access.editable).toBe(false);
    expect(access.reason).toMatch(
      /^public-second was added as a public remote: it does not trust Hangar/,
    );
    expect(access.cacheExpiryDays).toBeUndefined();
  });

  it('is read-only in a project where LXD refused a change (403), and stays editable elsewhere', async () => {
    // A client certificate restricted to one project of the second daemon: the public image
    // of its default project is visible, but LXD refuses to change it.
    await lxc(sandbox.remoteDir, ['project', 'create', project, '-c', 'features.profiles=false']);
    const token = (
      await lxc(sandbox.remoteDir, [
        'config',
        'trust',
        'add',
        '--name',
        `hangar-edit-${process.pid}`,
        '--restricted',
        '--projects',
        project,
      ])
    )
      .trim()
      .split('\n')
      .at(-1);
    const probe = await call<{ certificate: { fingerprint: string } }>('remotes.probe', { token });
    await call('remotes.add', {
      protocol: 'lxd',
      name: 'restricted',
      acceptedFingerprint: probe.certificate.fingerprint,
      auth: { method: 'token', token },
    });
    const publicImage = fixture('public');
    expect(await call<ImageAccess>('images.access', { remote: 'restricted' })).toMatchObject({
      editable: true,
    });
    const opened = await call<ImageForEdit>('images.document', {
      remote: 'restricted',
      fingerprint: publicImage.fingerprint,
    });
    const error = await refused('images.update', {
      remote: 'restricted',
      fingerprint: publicImage.fingerprint,
      etag: opened.etag,
      document: { ...documentOf(opened.image), auto_update: true },
    });
    expect(error).toMatchObject({ code: 'lxd-error', status: 403, message: 'not authorized' });
    expect(await call<ImageAccess>('images.access', { remote: 'restricted' })).toMatchObject({
      editable: false,
      reason: 'LXD does not let Hangar change images in restricted: not authorized',
    });
    expect(
      await call<ImageAccess>('images.access', { remote: 'restricted', project }),
    ).toMatchObject({ editable: true });
    // Nothing changed on the shared daemon.
    expect(
      load(await lxc(sandbox.remoteDir, ['image', 'show', publicImage.fingerprint])),
    ).toMatchObject({ auto_update: false });
  });
});
