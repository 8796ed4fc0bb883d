/**
 * `lxc image export`: the image's files as LXD stores them. The desktop app
 * writes them into a folder (typed, or chosen in its own dialog); in web mode
 * the browser downloads them, and Hangar writes nothing on its machine.
 */
import { useEffect, useState } from 'react';
import { exportCommand } from '../../shared/lxc-command';
import type { LxdImage } from '../../shared/lxd';
import { api } from '../api/hangar';
import { Dialog } from '../common/Dialog';
import { FolderField } from '../common/FolderField';
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
  const title = `Export ${image.aliases[0]?.name ?? image.fingerprint.slice(0, 12)}`;
  return api.kind === 'web' ? (
    <DownloadExport title={title} image={image} source={source} onClose={onClose} />
  ) : (
    <FolderExport title={title} image={image} source={source} onClose={onClose} />
  );
}

interface ExportProps {
  title: string;
  image: LxdImage;
  source: Target;
  onClose: () => void;
}

/** Web mode: a browser download, followed in the browser's downloads and in the operations panel. */
function DownloadExport({ title, image, source, onClose }: ExportProps) {
  const { busy, error, run } = useAction(onClose);
  return (
    <Dialog title={title} onClose={onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          run(() => api.exportDownload({ ...source, fingerprint: image.fingerprint }));
        }}
      >
        <p className="muted">
          Your browser downloads the image exactly as {source.remote} stores it: a unified image as
          its one file, a split image as one <span className="mono">.tar</span> archive holding its
          metadata and rootfs files (unpack it with <span className="mono">tar xf</span>). The bytes
          are checked against the fingerprint as they pass; if they do not match, the download
          fails. Its progress shows in the browser and in the operations panel, where it can be
          cancelled.
        </p>
        <CommandPreview
          command={exportCommand({ ...source, fingerprint: image.fingerprint, directory: '.' })}
        />
        <DialogFooter error={error} action="Download" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

/** The desktop app: into a folder on this machine, never overwriting a file. */
function FolderExport({ title, image, source, onClose }: ExportProps) {
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
    <Dialog title={title} onClose={onClose}>
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
        <FolderField
          label="Folder"
          title="Export to"
          value={directory}
          onChange={setDirectory}
          canChoose={canChoose}
        />
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
