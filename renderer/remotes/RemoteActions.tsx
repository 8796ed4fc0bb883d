/** What `lxc remote rename|switch|remove` do, for the remote on screen. */
import { useState } from 'react';
import type { RemoteSummary } from '../../shared/contract';
import { HangarError } from '../../shared/errors';
import { api } from '../api/hangar';
import { useConnection } from '../app/connection-store';
import { Dialog } from '../common/Dialog';
import { Alert } from '../common/fields';

export function RemoteActions({ remote }: { remote: RemoteSummary }) {
  const selectRemote = useConnection((state) => state.selectRemote);
  const [dialog, setDialog] = useState<'rename' | 'remove' | undefined>();
  const [newName, setNewName] = useState(remote.name);
  const [error, setError] = useState<string | undefined>();

  const run = async (work: () => Promise<void>) => {
    setError(undefined);
    try {
      await work();
      setDialog(undefined);
    } catch (failure) {
      setError(HangarError.from(failure).message);
    }
  };
  const close = () => {
    setDialog(undefined);
    setError(undefined);
  };
  const rename = (event: { preventDefault: () => void }) => {
    event.preventDefault();
    void run(async () => {
      const renamed = await api.remotes.rename({ remote: remote.name, newName });
      selectRemote(renamed.name);
    });
  };

  return (
    <div className="remote-actions">
      <button
        type="button"
        disabled={remote.isDefault}
        onClick={() =>
          void run(() => api.remotes.setDefault({ remote: remote.name }).then(() => undefined))
        }
      >
        Make default
      </button>
      {remote.static ? null : (
        <>
          <button
            type="button"
            onClick={() => {
              setNewName(remote.name);
              setDialog('rename');
            }}
          >
            Rename…
          </button>
          <button type="button" onClick={() => setDialog('remove')}>
            Remove…
          </button>
        </>
      )}
      {dialog === undefined && error !== undefined ? (
        <span className="error" role="alert">
          {error}
        </span>
      ) : null}
      {dialog === 'rename' ? (
        <Dialog title={`Rename ${remote.name}`} onClose={close}>
          <form className="form" onSubmit={rename}>
            <label>
              New name
              <input value={newName} onChange={(event) => setNewName(event.target.value)} />
            </label>
            <Alert message={error} />
            <div className="buttons">
              <button type="button" onClick={close}>
                Cancel
              </button>
              <button type="submit" className="primary">
                Rename
              </button>
            </div>
          </form>
        </Dialog>
      ) : null}
      {dialog === 'remove' ? (
        <Dialog title={`Remove ${remote.name}?`} onClose={close}>
          <p>
            Hangar forgets {remote.addr} and its pinned certificate. Nothing changes on the server;
            its trust of Hangar's certificate stays until removed there.
          </p>
          <Alert message={error} />
          <div className="buttons">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button
              type="button"
              className="danger"
              onClick={() =>
                void run(() => api.remotes.remove({ remote: remote.name }).then(() => undefined))
              }
            >
              Remove
            </button>
          </div>
        </Dialog>
      ) : null}
    </div>
  );
}
