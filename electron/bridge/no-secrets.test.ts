/**
 * The renderer's whole view of Hangar, through the web bridge exactly as the
 * page sees it: after adding a token-trusted remote and calling every call
 * of the contract, no response and no event carries the client key, the
 * certificate, the trust token or the password.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, inject, it } from 'vitest';
import { openBridgeSocket } from '../../scripts/bridge-socket.js';
import { trustToken } from '../../scripts/sandbox/trust-token.js';
import { deleteProject } from '../../scripts/sandbox/projects.js';
import { callNames, type CallName } from '../../shared/contract.js';
import { LXC_SORT } from '../../shared/images/view.js';
import { createHangar } from '../hangar.js';
import { plaintextCodec } from '../remotes/identity.js';
import { startBridge } from './server.js';
import { scratchDirs } from '../../scripts/testing/scratch-dirs.js';

const scratch = scratchDirs();
const run = promisify(execFile);
const sandbox = inject('sandbox');

it('no key, certificate, token or password crosses to the renderer', async () => {
  const dataDir = await scratch('hangar-secrets-');
  const hangar = await createHangar({
    env: { LXD_DIR: sandbox.localDir, HOME: dataDir },
    dataDir,
    secrets: plaintextCodec('test'),
  });
  const staticDir = await scratch('hangar-static-');
  const bridge = await startBridge({ hangar, staticDir });
  const { host } = new URL(bridge.origin);
  const headers = {
    authorization: `Bearer ${bridge.token}`,
    'content-type': 'application/json',
  };
  const seen: string[] = [];
  // The page's one socket: calls, their answers and events all pass here.
  const events = await openBridgeSocket(
    `${bridge.origin.replace('http', 'ws')}/api/socket`,
    { authorization: headers.authorization, host, origin: bridge.origin },
    (text) => seen.push(text),
  );
  const call = (name: CallName, input: unknown): Promise<unknown> => events.call(name, input);

  // Copies and the instance go to a project of their own, so other tests' lists are untouched.
  const project = `secrets-${process.pid}`;
  const lxcLocal = (...args: string[]) =>
    run('lxc', args, { env: { ...process.env, LXD_DIR: sandbox.localDir } });
  await lxcLocal('project', 'create', project, '-c', 'features.profiles=false');
  const exportDir = await mkdtemp(join(tmpdir(), 'hangar-secrets-export-'));
  const privateImage = sandbox.fixtures.find((fixture) => !fixture.public);
  const settled = async () => {
    for (let i = 0; i < 300; i++) {
      const list = (await call('operations.list', {})) as { value: { state: string }[] };
      if (list.value.every((operation) => operation.state !== 'running')) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('operations did not end');
  };

  try {
    const token = await trustToken(sandbox.remoteDir, 'hangar-secrets');
    const tokenSecret = (JSON.parse(Buffer.from(token, 'base64').toString()) as { secret: string })
      .secret;
    const password = 'hunter2-never-shown';

    const probe = (await call('remotes.probe', { token })) as {
      value: { certificate: { fingerprint: string } };
    };
    const fingerprint = probe.value.certificate.fingerprint;
    // A wrong password's error must not echo it either.
    await call('remotes.add', {
      protocol: 'lxd',
      name: 'with-password',
      addr: sandbox.remoteHttps,
      acceptedFingerprint: fingerprint,
      auth: { method: 'password', password },
    });
    const added = await call('remotes.add', {
      protocol: 'lxd',
      name: 'secret-test',
      acceptedFingerprint: fingerprint,
      auth: { method: 'token', token },
    });
    expect(added).toMatchObject({ ok: true });

    const view = { filter: '', sort: LXC_SORT, offset: 0, limit: 100 };
    // Every call of the contract, with inputs that succeed where they can.
    const inputs: Record<CallName, unknown> = {
      'remotes.list': {},
      'remotes.status': { remote: 'secret-test' },
      'remotes.probe': { addr: sandbox.remoteHttps },
      'remotes.add': { protocol: 'simplestreams', name: 'nowhere', addr: 'https://127.0.0.1:1' },
      'remotes.rename': { remote: 'secret-test', newName: 'renamed' },
      'remotes.setDefault': { remote: 'renamed' },
      'remotes.trustCertificate': { remote: 'renamed', fingerprint },
      'remotes.lxcOffer': {},
      'remotes.importLxc': { names: [] },
      'remotes.dismissLxcImport': {},
      'remotes.shareInfo': { remote: 'renamed' },
      'app.info': {},
      'app.chooseFolder': { title: 'Export to' },
      'projects.list': { remote: 'renamed' },
      'images.list': { remote: 'renamed' },
      'images.load': { remote: 'renamed', ...view },
      'images.view': { remote: 'renamed', ...view },
      'images.rows': { remote: 'renamed', offset: 0, limit: 100 },
      'images.select': { remote: 'renamed', filter: '', sort: LXC_SORT, from: 0, to: 10 },
      'images.details': {
        remote: 'renamed',
        fingerprints: sandbox.fixtures.map(({ fingerprint }) => fingerprint),
      },
      'images.get': { remote: 'renamed', fingerprint: sandbox.fixtures[0]?.fingerprint },
      'images.aliases': { remote: 'renamed' },
      'images.document': { remote: 'renamed', fingerprint: privateImage?.fingerprint },
      // Changes that LXD refuses or that find nothing to change: the second daemon's images
      // are shared with other tests.
      'images.update': {
        remote: 'renamed',
        fingerprint: privateImage?.fingerprint,
        etag: '"stale"',
        document: {
          auto_update: false,
          properties: {},
          public: false,
          expires_at: '0001-01-01T00:00:00Z',
          profiles: [],
        },
      },
      'images.access': { remote: 'renamed' },
      'images.aliasCreate': {
        remote: 'renamed',
        name: privateImage?.aliases[0]?.name,
        target: privateImage?.fingerprint,
        description: '',
      },
      'images.aliasUpdate': {
        remote: 'renamed',
        name: 'no/such/alias',
        target: privateImage?.fingerprint,
        description: '',
      },
      'images.aliasRename': { remote: 'renamed', name: 'no/such/alias', newName: 'no/other' },
      'images.aliasDelete': { remote: 'renamed', name: 'no/such/alias' },
      'images.usage': { remote: 'renamed', fingerprints: [privateImage?.fingerprint] },
      'images.delete': { remote: 'renamed', fingerprints: ['0'.repeat(64)] },
      'images.refresh': { remote: 'renamed', fingerprint: privateImage?.fingerprint },
      'images.checkUpdates': { remote: 'renamed' },
      // A private image: the source server hands out a one-time secret for the pull.
      'images.copy': {
        source: { remote: 'renamed', image: privateImage?.fingerprint },
        target: { remote: 'local', project },
        aliases: [],
        copyAliases: true,
        autoUpdate: false,
        public: false,
      },
      'images.export': {
        remote: 'renamed',
        fingerprint: privateImage?.fingerprint,
        directory: exportDir,
      },
      'images.importFiles': {
        remote: 'renamed',
        files: [{ path: join(exportDir, 'missing.tar.gz') }],
        aliases: [],
        public: false,
        properties: {},
      },
      'images.exportSimplestreams': {
        remote: 'renamed',
        fingerprints: [privateImage?.fingerprint],
        directory: exportDir,
      },
      'images.importUrl': {
        remote: 'renamed',
        url: 'https://127.0.0.1:1/image',
        aliases: [],
        public: false,
      },
      'instances.launch': {
        source: { remote: 'renamed', image: privateImage?.fingerprint },
        target: { remote: 'local', project },
        name: 'c-secrets',
        vm: false,
        ephemeral: false,
        start: false,
      },
      'instances.list': { remote: 'local', project },
      'instances.publish': {
        source: { remote: 'local', project, instance: 'c-secrets' },
        target: { remote: 'renamed' },
        aliases: ['secrets/published'],
        public: false,
        properties: { os: 'test' },
        compression: 'none',
        force: false,
      },
      'build.architectures': { remote: 'renamed' },
      'build.check': {
        rootfs: exportDir,
        metadata: { architecture: 'x86_64', creationDate: 1700000000, properties: {} },
        templates: [],
      },
      'build.pack': {
        rootfs: join(exportDir, 'missing-rootfs'),
        metadata: { architecture: 'x86_64', creationDate: 1700000000, properties: {} },
        templates: [],
        layout: 'unified',
        compression: 'none',
        importTo: { remote: 'renamed', aliases: [], public: false },
      },
      'operations.list': {},
      'operations.cancel': { id: 'none' },
      'remotes.remove': { remote: 'renamed' },
    };
    for (const name of callNames) await call(name, inputs[name]);
    // Web mode's byte streams: an export comes down as a download (images.export into a
    // folder is refused over the bridge), a file goes up as an upload.
    const download = await fetch(
      `${bridge.origin}/api/export?remote=renamed&fingerprint=${privateImage?.fingerprint ?? ''}`,
      { headers: { authorization: headers.authorization } },
    );
    const downloaded = Buffer.from(await download.arrayBuffer());
    expect(download.status).toBe(200);
    expect(downloaded.length).toBe(Number(download.headers.get('content-length')));
    seen.push(JSON.stringify([...download.headers.entries()]));
    const reserved = await fetch(`${bridge.origin}/api/upload`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'not-an-image.tar', size: 5 }),
    });
    const reservation = (await reserved.json()) as { ok: true; value: { upload: string } };
    // The bytes go straight into the import; the PUT is answered when it ended.
    const uploaded = fetch(`${bridge.origin}/api/upload/${reservation.value.upload}`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: 'hello',
    });
    await call('images.importFiles', {
      remote: 'renamed',
      files: [{ upload: reservation.value.upload }],
      aliases: [],
      public: false,
      properties: {},
    });
    seen.push(await (await uploaded).text());
    // Operations run on after their call answered; their events count too.
    await settled();
    expect(Object.keys(inputs).sort()).toEqual([...callNames].sort());
    const ended = (await call('operations.list', {})) as {
      value: { kind: string; state: string; error?: { message: string } }[];
    };
    // The copy, export (as a download), launch and delete (of an image already gone) really
    // ran (so their secrets were in play).
    expect(
      ended.value.filter((operation) => operation.state === 'succeeded').map((op) => op.kind),
    ).toEqual(expect.arrayContaining(['copy', 'delete', 'export', 'launch']));

    const key = await readFile(join(dataDir, 'client.key'), 'utf8');
    const certificate = await readFile(join(dataDir, 'client.crt'), 'utf8');
    const pemBody = (pem: string) =>
      pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
    const secrets = [
      token,
      tokenSecret,
      password,
      'PRIVATE KEY',
      'BEGIN CERTIFICATE',
      ...pemBody(key),
      ...pemBody(certificate),
    ];
    const everything = seen.join('\n');
    // The exchange did happen: images from the trusted remote, status events.
    expect(everything).toContain(sandbox.fixtures[0]?.fingerprint);
    expect(everything).toContain('"event":"remote.status"');
    for (const secret of secrets) expect(everything).not.toContain(secret);
  } finally {
    events.socket.close();
    await bridge.close();
    await hangar.close();
    await deleteProject(sandbox.localDir, project);
    await rm(exportDir, { recursive: true, force: true });
  }
});
