import { describe, expect, it } from 'vitest';
import {
  documentToYaml,
  parseDocumentYaml,
  type ImageDocument,
} from '../../shared/images/document';
import { fieldsOf, formToYaml, reconcileRows, rowProblems } from './draft';

const base: ImageDocument = {
  auto_update: false,
  properties: { os: 'Debian', 'user.empty value': '' },
  public: false,
  expires_at: '1970-01-01T00:00:00Z',
  profiles: ['default'],
};

describe('the form as YAML', () => {
  it('is the same text lxc image edit shows when nothing changed', () => {
    expect(formToYaml(fieldsOf(base), reconcileRows([], base))).toBe(documentToYaml(base));
  });

  it('writes a key typed twice twice, so the YAML refuses it as the form does', () => {
    const rows = [...reconcileRows([], base), { id: 99, key: 'os', value: 'again' }];
    const text = formToYaml(fieldsOf(base), rows);
    const parsed = parseDocumentYaml(text, base);
    expect(parsed.ok).toBe(false);
    expect(rowProblems(rows, base).get(99)?.message).toMatch(/already used above/);
  });

  it('keeps the ids of rows whose key did not change when the YAML changes', () => {
    const rows = reconcileRows([], base);
    const next = reconcileRows(rows, { ...base, properties: { os: 'Ubuntu', added: 'x' } });
    expect(next[0]).toEqual({ id: rows[0]?.id, key: 'os', value: 'Ubuntu' });
    expect(next[1]?.id).not.toBe(rows[1]?.id);
  });
});

describe('row problems', () => {
  it('blocks a new empty key, notes a key with a space and an empty value', () => {
    const rows = [
      { id: 1, key: '', value: 'x' },
      { id: 2, key: 'user.a b', value: 'x' },
      { id: 3, key: 'user.empty value', value: '' },
    ];
    const problems = rowProblems(rows, base);
    expect(problems.get(1)).toMatchObject({ severity: 'error' });
    expect(problems.get(2)).toMatchObject({ severity: 'warning' });
    // A key the server has is not held against the draft; its empty value still gets a note.
    expect(problems.get(3)).toMatchObject({
      severity: 'warning',
      message: expect.stringMatching(/LXD does not keep an empty property/) as unknown,
    });
  });
});
