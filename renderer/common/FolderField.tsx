/** A folder on Hangar's machine: typed, or picked with the desktop app's folder dialog. */
import { api } from '../api/hangar';
import { TextField } from './fields';

export function FolderField({
  label,
  title,
  value,
  onChange,
  canChoose,
}: {
  label: string;
  /** The title of the system's folder dialog. */
  title: string;
  value: string;
  onChange: (folder: string) => void;
  /** Whether there is a folder dialog (the desktop app; web mode has none). */
  canChoose: boolean;
}) {
  return (
    <TextField label={label} value={value} onChange={onChange}>
      {canChoose ? (
        <button
          type="button"
          onClick={() => {
            void api.app.chooseFolder({ title, defaultPath: value || undefined }).then((chosen) => {
              if (chosen !== null) onChange(chosen);
            });
          }}
        >
          Choose…
        </button>
      ) : null}
    </TextField>
  );
}
