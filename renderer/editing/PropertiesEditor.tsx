/** The Properties tab: the document as a form, in sync with the YAML tab both ways. */
import { useId } from 'react';
import { NEVER } from '../../shared/images/document';
import { isUnsetTime } from '../../shared/images/format';
import { Checkbox } from '../common/fields';
import { newRowId, rowProblems, type FormFields, type PropertyRow } from './draft';
import { useEdit } from './edit-store';

/** RFC 3339 (UTC) ↔ the value of a datetime-local input, shown in UTC as lxc does. */
const toInput = (time: string) => (isUnsetTime(time) ? '' : time.slice(0, 16));
const fromInput = (value: string) => (value === '' ? NEVER : `${value}:00Z`);

export function PropertiesEditor({ readOnly }: { readOnly: boolean }) {
  const { base, rows, fields, parsed, editedIn, editForm } = useEdit();
  const expiresId = useId();
  const profilesId = useId();
  if (base === undefined || fields === undefined) return <p className="muted">Loading…</p>;
  const yamlBroken = editedIn === 'yaml' && parsed !== undefined && !parsed.ok;
  const problems = rowProblems(rows, base);
  const setFields = (change: Partial<FormFields>) => editForm({ ...fields, ...change }, rows);
  const setRows = (next: PropertyRow[]) => editForm(fields, next);
  const updateRow = (id: number, change: Partial<PropertyRow>) =>
    setRows(rows.map((row) => (row.id === id ? { ...row, ...change } : row)));

  return (
    <div className="properties-editor">
      {yamlBroken ? (
        <p className="notice" role="status">
          The YAML tab has an error ({parsed.problems[0]?.message}) The form shows the last version
          that could be read: fix the YAML, or Revert.
        </p>
      ) : null}
      <fieldset disabled={readOnly || yamlBroken} className="form">
        <Checkbox
          label="Public"
          checked={fields.public}
          onChange={(value) => setFields({ public: value })}
        />
        <Checkbox
          label="Auto update"
          checked={fields.auto_update}
          onChange={(value) => setFields({ auto_update: value })}
        />
        <div className="field">
          <label htmlFor={expiresId}>Expires (UTC)</label>
          <div className="inline">
            <input
              id={expiresId}
              type="datetime-local"
              value={toInput(fields.expires_at)}
              onChange={(event) => setFields({ expires_at: fromInput(event.target.value) })}
            />
            {isUnsetTime(fields.expires_at) ? (
              <span className="muted">never</span>
            ) : (
              <button type="button" onClick={() => setFields({ expires_at: NEVER })}>
                Never expire
              </button>
            )}
          </div>
        </div>
        <div className="field">
          <label htmlFor={profilesId}>Profiles</label>
          <input
            id={profilesId}
            value={fields.profiles.join(', ')}
            spellCheck={false}
            placeholder="none (separate names with commas)"
            onChange={(event) =>
              setFields({
                profiles: event.target.value
                  .split(',')
                  .map((name) => name.trim())
                  .filter((name) => name !== ''),
              })
            }
          />
        </div>

        <table className="kv-edit">
          <caption>Properties</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Value</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const problem = problems.get(row.id);
              const problemId = `property-problem-${row.id}`;
              return (
                <tr key={row.id}>
                  <td>
                    <input
                      aria-label="Property key"
                      value={row.key}
                      spellCheck={false}
                      aria-invalid={problem?.severity === 'error'}
                      aria-describedby={problem === undefined ? undefined : problemId}
                      onChange={(event) => updateRow(row.id, { key: event.target.value })}
                    />
                    {problem === undefined ? null : (
                      <p
                        id={problemId}
                        className={problem.severity === 'error' ? 'field-error' : 'field-note'}
                      >
                        {problem.message}
                      </p>
                    )}
                  </td>
                  <td>
                    <textarea
                      aria-label="Property value"
                      value={row.value}
                      rows={Math.min(6, row.value.split('\n').length)}
                      spellCheck={false}
                      onChange={(event) => updateRow(row.id, { value: event.target.value })}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      aria-label="Remove property"
                      title={`Remove ${row.key}`}
                      onClick={() => setRows(rows.filter((candidate) => candidate.id !== row.id))}
                    >
                      ×
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <div>
          <button
            type="button"
            onClick={() => setRows([...rows, { id: newRowId(), key: '', value: '' }])}
          >
            Add property
          </button>
        </div>
      </fieldset>
    </div>
  );
}
