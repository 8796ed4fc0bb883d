/** `lxc image export`: the image's files as LXD stores them, into a folder. */
import { useEffect, useState } from 'react';
import { exportCommand } from '../../shared/lxc-command';
import type { LxdImage } from '../../shared/lxd';
import { api } from '../api/hangar';
import { Dialog } from '../common/Dialog';
import { TextField } from '../common/fields';
import { DialogFooter } from './DialogFooter';
import { useAction } from './use-action';
import { CommandPreview } from '../common/CommandPreview';
import type { Target } from './TargetPicker';

export function ExportDialog({
  image,
  source,
  onClose,
}: {
  image: LxdImage;
  source: Target;
  onClose: () => void;
}) {
  const [directory, setDirectory] = useState('');
  const [canChoose, setCanChoose] = useState(false);
  const { busy, error, run } = useAction(onClose);
  useEffect(() => {
    void api.app.info({}).then((info) => {
      setDirectory((current) => current || info.exportDir);
      setCanChoose(info.canChooseFolder);
    });
  }, []);
  const input = { ...source, fingerprint: image.fingerprint, directory };
  return (
    <Dialog
      title={`Export ${image.aliases[0]?.name ?? image.fingerprint.slice(0, 12)}`}
      onClose={onClose}
    >
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          run(() => api.images.export(input));
        }}
      >
        <p className="muted">
          Unified or split, exactly as {source.remote} stores it; the files are checked against the
          fingerprint and never overwrite a file.
        </p>
        <TextField label="Folder" value={directory} onChange={setDirectory}>
          {canChoose ? (
            <button
              type="button"
              onClick={() => {
                void api.app
                  .chooseFolder({ title: 'Export to', defaultPath: directory || undefined })
                  .then((chosen) => {
                    if (chosen !== null) setDirectory(chosen);
                  });
              }}
            >
              Choose…
            </button>
          ) : null}
        </TextField>
        <CommandPreview command={exportCommand(input)} />
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
