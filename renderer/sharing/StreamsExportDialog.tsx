/**
 * "Export as simplestreams…": the selected images written as a static
 * simplestreams tree into a folder (desktop app). Web mode writes into no
 * folder on Hangar's machine: the dialog says so and what to do instead.
 */
import { useEffect, useState } from 'react';
import { simplestreamsCommand, simplestreamsRemoteCommand } from '../../shared/sharing';
import { api } from '../api/hangar';
import { CommandPreview } from '../common/CommandPreview';
import { Dialog } from '../common/Dialog';
import { FolderField } from '../common/FolderField';
import { DialogFooter } from '../transfers/DialogFooter';
import { useAction } from '../transfers/use-action';

interface Scope {
  remote: string;
  project: string;
}

export function StreamsExportDialog({
  fingerprints,
  scope,
  onClose,
}: {
  fingerprints: string[];
  scope: Scope;
  onClose: () => void;
}) {
  const title = 'Export as simplestreams';
  const [directory, setDirectory] = useState('');
  const [canChoose, setCanChoose] = useState(false);
  const { busy, error, run } = useAction(onClose);
  useEffect(() => {
    if (api.kind === 'web') return;
    void api.app.info({}).then((info) => {
      setDirectory((current) => current || info.exportDir);
      setCanChoose(info.canChooseFolder);
    });
  }, []);
  if (api.kind === 'web')
    return (
      <Dialog title={title} onClose={onClose}>
        <div className="form">
          <p>
            In web mode Hangar writes nothing into folders on its machine, so it cannot write a
            simplestreams tree there. Use the desktop app for this, or download each image (Export…
            → Download) and lay the tree out on your web server.
          </p>
          <div className="buttons">
            <button type="button" onClick={onClose}>
              Close
            </button>
          </div>
        </div>
      </Dialog>
    );
  const input = {
    remote: scope.remote,
    project: scope.project,
    fingerprints,
    directory,
  };
  const count = fingerprints.length === 1 ? '1 image' : `${fingerprints.length} images`;
  return (
    <Dialog title={title} onClose={onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          run(() => api.images.exportSimplestreams(input));
        }}
      >
        <p className="muted">
          {count} from {scope.remote}, exactly as LXD stores them, with{' '}
          <span className="mono">streams/v1/index.json</span> and{' '}
          <span className="mono">streams/v1/images.json</span>: one product per OS, release,
          architecture and variant, one version per image (its serial), its aliases on the newest
          version. Exporting into the same folder again adds new versions and never rewrites a file
          already there. Serve the folder with any HTTPS web server; others then run:
        </p>
        <pre className="mono">{simplestreamsRemoteCommand('https://<your server>/<folder>')}</pre>
        <FolderField
          label="Folder"
          title="Export as simplestreams to"
          value={directory}
          onChange={setDirectory}
          canChoose={canChoose}
        />
        <CommandPreview command={simplestreamsCommand(input)} />
        <DialogFooter
          error={error}
          action="Export"
          disabled={busy || directory === ''}
          onCancel={onClose}
        />
      </form>
    </Dialog>
  );
}
