/** Save and Revert for the draft, what blocks saving, and the `lxc` command a save amounts to. */
import { blocking } from '../../shared/images/document';
import { editCommand } from '../../shared/lxc-command';
import { Alert } from '../common/fields';
import { CommandPreview } from '../common/CommandPreview';
import { isDirty, useEdit } from './edit-store';

export function EditFooter() {
  const state = useEdit();
  const { target, parsed, saving, saveError, save, revert } = state;
  if (target === undefined || parsed === undefined) return null;
  const dirty = isDirty(state);
  const problems = parsed.ok ? parsed.warnings : parsed.problems;
  const errors = problems.filter((problem) => problem.severity === 'error');
  return (
    <div className="edit-footer">
      {errors.length === 0 ? null : (
        <div className="error" role="alert">
          <p>Cannot save yet:</p>
          <ul>
            {errors.map((problem, index) => (
              <li key={index}>
                {problem.line === undefined ? '' : `Line ${problem.line}: `}
                {problem.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <Alert message={saveError === undefined ? undefined : `Not saved: ${saveError}`} />
      {dirty ? <CommandPreview command={editCommand(target)} /> : null}
      <div className="buttons">
        <span className="muted" role="status">
          {saving ? 'Saving…' : dirty ? 'Unsaved changes' : 'No changes'}
        </span>
        <button type="button" onClick={revert} disabled={!dirty || saving}>
          Revert
        </button>
        <button
          type="button"
          className="primary"
          disabled={!dirty || saving || blocking(problems)}
          onClick={() => void save()}
        >
          Save
        </button>
      </div>
    </div>
  );
}
