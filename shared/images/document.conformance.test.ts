/**
 * The document's YAML against the `lxc` installed here: what Hangar writes,
 * `lxc image edit` must read as the same values, and what `lxc image show`
 * prints, Hangar must read as LXD's own JSON says.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deleteProject } from '../../scripts/sandbox/projects.js';
import type { LxdImage } from '../lxd.js';
import { documentOf, documentToYaml, parseDocumentYaml, type ImageDocument } from './document.js';

const run = promisify(execFile);
const sandbox = inject('sandbox');
const project = `document-${process.pid}`;
const env = { ...process.env, LXD_DIR: sandbox.localDir };
const lxc = async (...args: string[]) => (await run('lxc', args, { env })).stdout;

/** `lxc image edit` reads the YAML from standard input when it is not a terminal. */
function lxcEdit(fingerprint: string, yaml: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('lxc', ['image', 'edit', fingerprint, '--project', project], { env });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`lxc image edit: ${stderr}`)),
    );
    child.stdin.end(yaml);
  });
}

const imageJson = async (fingerprint: string) =>
  JSON.parse(await lxc('query', `/1.0/images/${fingerprint}?project=${project}`)) as LxdImage;

let fingerprint: string;

beforeAll(async () => {
  await lxc('project', 'create', project, '-c', 'features.images=true');
  const source = sandbox.fixtures.find((fixture) => fixture.key === 'unified');
  if (source === undefined) throw new Error('no unified fixture');
  await lxc('image', 'copy', source.fingerprint, 'local:', '--target-project', project);
  fingerprint = source.fingerprint;
});

afterAll(() => deleteProject(sandbox.localDir, project));

const documents: [string, Partial<ImageDocument>][] = [
  [
    'text that YAML would read as other types',
    {
      properties: {
        version: '1.10',
        serial: '20160314',
        yes: 'yes',
        off: 'Off',
        nothing: 'null',
        tilde: '~',
        octal: '0o17',
        hex: '0x1F',
        date: '2024-04-23',
        infinity: '.inf',
      },
    },
  ],
  [
    'spaces, non-ASCII, quotes and YAML punctuation',
    {
      properties: {
        'user.note': '日本語のメモ with  two spaces',
        'user.empty value': '',
        'user.clé': 'Café crème — ünïcode',
        colon: 'a: b',
        hash: '# not a comment',
        dash: '- not a list',
        quotes: `it's "quoted"`,
        padded: '  leading and trailing  ',
        multi: 'first line\nsecond line\n',
        braces: '{a: 1}',
      },
    },
  ],
  [
    'flags, an expiry date and no profiles',
    { public: true, auto_update: true, expires_at: '2031-05-06T07:08:09Z', profiles: [] },
  ],
];

describe('Hangar writes what lxc image edit reads', () => {
  it.each(documents)('%s', async (_name, change) => {
    const before = documentOf(await imageJson(fingerprint));
    const document: ImageDocument = { ...before, ...change };
    await lxcEdit(fingerprint, documentToYaml(document));
    const after = documentOf(await imageJson(fingerprint));
    // LXD does not store a property whose value is empty (Hangar warns about it).
    const kept = Object.entries(document.properties).filter(([, value]) => value !== '');
    expect(after).toEqual({ ...document, properties: Object.fromEntries(kept) });
  });
});

describe('Hangar reads what lxc image show prints', () => {
  it.each(documents)('%s', async (_name, change) => {
    const before = documentOf(await imageJson(fingerprint));
    await lxcEdit(fingerprint, documentToYaml({ ...before, ...change }));
    const shown = await lxc('image', 'show', fingerprint, '--project', project);
    const parsed = parseDocumentYaml(shown);
    if (!parsed.ok) throw new Error(parsed.problems.map((problem) => problem.message).join('; '));
    expect(parsed.document).toEqual(documentOf(await imageJson(fingerprint)));
  });
});
