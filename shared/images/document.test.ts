import { describe, expect, it } from 'vitest';
import {
  NEVER,
  documentProblems,
  documentToYaml,
  parseDocumentYaml,
  parseTime,
  propertyKeyProblem,
  rebaseDraft,
  type ImageDocument,
} from './document.js';

const base: ImageDocument = {
  auto_update: false,
  properties: { description: 'Debian', os: 'Debian', release: '12' },
  public: false,
  expires_at: '1970-01-01T00:00:00Z',
  profiles: ['default'],
};

const parse = (text: string, against?: ImageDocument) => {
  const parsed = parseDocumentYaml(text, against);
  if (!parsed.ok) throw new Error(parsed.problems.map((problem) => problem.message).join('; '));
  return parsed.document;
};
const problemsOf = (text: string, against?: ImageDocument) => {
  const parsed = parseDocumentYaml(text, against);
  if (parsed.ok) throw new Error('the YAML was accepted');
  return parsed.problems;
};

describe('the image document as YAML', () => {
  it('is written in lxc image edit order and reads back unchanged', () => {
    const document: ImageDocument = {
      ...base,
      properties: {
        version: '1.10',
        serial: '20160314',
        flag: 'yes',
        nothing: 'null',
        'user.note': '日本語のメモ with  two spaces',
        'user.empty value': '',
        multi: 'first\nsecond',
        colon: 'a: b',
      },
    };
    const text = documentToYaml(document);
    expect(text.split('\n').filter((line) => /^\S/.test(line))).toEqual([
      'auto_update: false',
      'properties:',
      'public: false',
      'expires_at: 1970-01-01T00:00:00Z',
      'profiles:',
      '- default',
    ]);
    expect(parse(text)).toEqual(document);
  });

  it('keeps scalars as written, as go-yaml does for a string field', () => {
    const document = parse(
      'auto_update: yes\nproperties:\n  version: 1.10\n  serial: 20160314\n  on: on\n  empty:\npublic: off\nexpires_at: 2030-01-31\nprofiles: []\n',
    );
    expect(document.properties).toEqual({
      version: '1.10',
      serial: '20160314',
      on: 'on',
      empty: '',
    });
    // YAML 1.1 booleans, as lxc reads them.
    expect(document.auto_update).toBe(true);
    expect(document.public).toBe(false);
    expect(document.expires_at).toBe('2030-01-31T00:00:00Z');
  });

  it('refuses fields LXD sets itself, naming them', () => {
    const problems = problemsOf(
      `${documentToYaml(base)}architecture: aarch64\ncreated_at: 2020-01-01\n`,
    );
    expect(problems.map((problem) => problem.path)).toEqual(['architecture', 'created_at']);
    expect(problems[0]?.message).toMatch(/"architecture" cannot be changed/);
    expect(problems[0]?.line).toBe(10);
  });

  it('says where invalid YAML is', () => {
    const [problem] = problemsOf(
      'auto_update: false\nproperties:\n  os: [unclosed\npublic: false\n',
    );
    expect(problem?.message).toMatch(/^Invalid YAML/);
    expect(problem?.line).toBeGreaterThanOrEqual(3);
  });

  it('refuses duplicate keys, non-scalar values, unknown and missing fields', () => {
    expect(problemsOf('auto_update: false\nproperties:\n  a: 1\n  a: 2\n')[0]?.message).toMatch(
      /duplicated mapping key/,
    );
    const nested = problemsOf(documentToYaml(base).replace('os: Debian', 'os: {name: Debian}'));
    expect(nested).toMatchObject([{ path: 'properties.os', line: 4 }]);
    expect(problemsOf(documentToYaml(base).replace('public:', 'publik:'))[0]?.message).toMatch(
      /Unknown field "publik"/,
    );
    expect(
      problemsOf('auto_update: false\nproperties: {}\npublic: false\nexpires_at: 2030-01-01\n'),
    ).toMatchObject([{ path: 'profiles' }]);
  });

  it('refuses an alias bomb at once', () => {
    const bomb = [
      'auto_update: false',
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'properties: {x: *d}',
    ].join('\n');
    const started = performance.now();
    expect(problemsOf(bomb)[0]?.message).toMatch(/aliases/);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('refuses YAML over 1 MiB before parsing it', () => {
    expect(problemsOf(`#${'x'.repeat(1024 * 1024)}`)[0]?.message).toMatch(/at most 1 MiB/);
  });
});

describe('property keys and values', () => {
  it('blocks empty, padded and control-character keys; notes spaces and non-ASCII', () => {
    expect(propertyKeyProblem('')).toMatchObject({ severity: 'error' });
    expect(propertyKeyProblem(' os')).toMatchObject({ severity: 'error' });
    expect(propertyKeyProblem('a\tb')).toMatchObject({ severity: 'error' });
    expect(propertyKeyProblem('k'.repeat(256))).toMatchObject({ severity: 'error' });
    expect(propertyKeyProblem('user.a b')).toMatchObject({ severity: 'warning' });
    expect(propertyKeyProblem('user.café')).toMatchObject({ severity: 'warning' });
    expect(propertyKeyProblem('user.note')).toBeUndefined();
  });

  it('does not hold keys the server already has against a draft', () => {
    const server = { ...base, properties: { '': 'set by lxc', 'a\tb': 'tab' } };
    expect(documentProblems({ ...server, public: true }, server)).toEqual([]);
    expect(
      documentProblems({ ...server, properties: { ...server.properties, ' x': '1' } }, server),
    ).toHaveLength(1);
  });

  it('refuses very long values', () => {
    const problems = documentProblems({ ...base, properties: { long: 'x'.repeat(70_000) } });
    expect(problems).toMatchObject([{ path: 'properties.long', severity: 'error' }]);
  });
});

describe('times', () => {
  it('reads the forms go-yaml reads, normalised to UTC', () => {
    expect(parseTime('2030-01-31T10:00:00+02:00')).toBe('2030-01-31T08:00:00Z');
    expect(parseTime('2030-01-31')).toBe('2030-01-31T00:00:00Z');
    expect(parseTime(NEVER)).toBe(NEVER);
    expect(parseTime('next week')).toBeUndefined();
    expect(parseTime('2030-13-45')).toBeUndefined();
  });
});

describe('reapplying a draft on a newer version', () => {
  it('keeps what the draft changed and takes the rest from the server', () => {
    const draft: ImageDocument = {
      ...base,
      public: true,
      properties: { description: 'Mine', release: '12', added: 'by me' },
    };
    const server: ImageDocument = {
      ...base,
      auto_update: true,
      properties: { description: 'Debian', os: 'Debian', release: '13', theirs: 'by lxc' },
    };
    expect(rebaseDraft(base, draft, server)).toEqual({
      ...base,
      public: true,
      auto_update: true,
      properties: { description: 'Mine', release: '13', theirs: 'by lxc', added: 'by me' },
    });
  });
});
