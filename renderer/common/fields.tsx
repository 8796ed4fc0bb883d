/** The form pieces every dialog uses, labelled so that tests and screen readers find them by name. */
import { useId, type ReactNode } from 'react';

/** A refusal or a problem to fix, announced when it appears; nothing when there is none. */
export function Alert({ message }: { message: string | undefined }) {
  return message === undefined ? null : (
    <p className="error" role="alert">
      {message}
    </p>
  );
}

/** A labelled text box; with `rows`, a multi-line one. `children` go after it (e.g. a Choose… button). */
export function TextField({
  label,
  value,
  onChange,
  placeholder,
  type = 'text',
  rows,
  children,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  type?: 'text' | 'url';
  rows?: number;
  children?: ReactNode;
}) {
  const id = useId();
  const common = {
    id,
    value,
    placeholder,
    spellCheck: false,
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {rows === undefined ? (
        <input {...common} type={type} onChange={(event) => onChange(event.target.value)} />
      ) : (
        <textarea {...common} rows={rows} onChange={(event) => onChange(event.target.value)} />
      )}
      {children}
    </div>
  );
}

export function Checkbox({
  label,
  checked,
  onChange,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  return (
    <label className="check">
      <input
        type="checkbox"
        checked={checked}
        onChange={(event) => onChange(event.target.checked)}
      />
      {label}
    </label>
  );
}
