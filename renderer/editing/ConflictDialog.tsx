/**
 * A save found the image changed on the server (412): its version beside
 * the draft, and the choice to reapply the draft on it or drop the draft.
 * Closing the dialog keeps the draft as it is.
 */
import { documentOf, documentToYaml } from '../../shared/images/document';
import { Dialog } from '../common/Dialog';
import { useEdit } from './edit-store';

export function ConflictDialog() {
  const { conflict, yaml, parsed, reapply, takeServer } = useEdit();
  if (conflict === undefined) return null;
  const close = () => useEdit.setState({ conflict: undefined });
  return (
    <Dialog title="Conflict" onClose={close}>
      <p>
        The image changed on the server since you opened it. Your draft is kept: apply your changes
        to the new version (each field and property you changed wins), or drop them.
      </p>
      <div className="conflict-columns">
        <section aria-label="Server version">
          <h3>On the server now</h3>
          <pre className="yaml">{documentToYaml(documentOf(conflict.image))}</pre>
        </section>
        <section aria-label="Your draft">
          <h3>Your draft</h3>
          <pre className="yaml">{yaml}</pre>
        </section>
      </div>
      <div className="buttons">
        <button type="button" onClick={close}>
          Keep editing
        </button>
        <button type="button" onClick={takeServer}>
          Drop my changes
        </button>
        <button type="button" className="primary" disabled={!parsed?.ok} onClick={reapply}>
          Reapply my changes
        </button>
      </div>
    </Dialog>
  );
}

/** Leaving an image, a remote or a project with unsaved changes asks first. */
export function LeaveDialog() {
  const { pendingLeave, confirmLeave, cancelLeave } = useEdit();
  if (pendingLeave === undefined) return null;
  return (
    <Dialog title="Unsaved changes" onClose={cancelLeave}>
      <p>This image has changes that are not saved. Leave it and drop them?</p>
      <div className="buttons">
        <button type="button" className="primary" onClick={cancelLeave}>
          Keep editing
        </button>
        <button type="button" onClick={confirmLeave}>
          Drop changes
        </button>
      </div>
    </Dialog>
  );
}
