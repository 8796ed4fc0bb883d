import { Alert } from '../common/fields';

/** The end of every transfer dialog: LXD's or Hangar's refusal (the draft stays), Cancel, the action. */
export function DialogFooter({
  error,
  action,
  disabled,
  onCancel,
}: {
  error: string | undefined;
  action: string;
  disabled: boolean;
  onCancel: () => void;
}) {
  return (
    <>
      <Alert message={error} />
      <div className="buttons">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={disabled}>
          {action}
        </button>
      </div>
    </>
  );
}
