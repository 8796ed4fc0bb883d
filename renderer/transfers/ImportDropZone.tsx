/**
 * Importing images: drop files anywhere on the window or on this zone, or
 * pick them; or give a URL. The zone is where a drop is announced.
 */
import { useEffect, useId, useState } from 'react';
import { useConnection } from '../app/connection-store';
import { useImages } from '../images/images-store';
import { ImportFilesDialog, ImportUrlDialog } from './ImportDialogs';

const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') === true;

export function ImportDropZone() {
  const { remote, project, remotes } = useConnection();
  const [dragging, setDragging] = useState(false);
  const [files, setFiles] = useState<File[] | undefined>();
  const [urlOpen, setUrlOpen] = useState(false);
  const pickerId = useId();
  const access = useImages((state) => state.access);
  // Where images cannot be written (an image server, public access only), nothing is offered.
  const refusal = access?.editable === false ? (access.reason ?? 'read-only') : undefined;
  const isLxd = remotes.find((candidate) => candidate.name === remote)?.protocol === 'lxd';
  const target = isLxd
    ? { remote: remote ?? 'local', project }
    : {
        remote: remotes.find((candidate) => candidate.protocol === 'lxd')?.name ?? 'local',
        project: 'default',
      };

  useEffect(() => {
    const over = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      setDragging(true);
    };
    const leave = (event: DragEvent) => {
      if (event.relatedTarget === null) setDragging(false);
    };
    const drop = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      // The browser would open the file instead.
      event.preventDefault();
      setDragging(false);
      if (useImages.getState().access?.editable !== false)
        setFiles([...(event.dataTransfer?.files ?? [])]);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);

  if (refusal !== undefined)
    return (
      <section className="drop-zone disabled" aria-label="Import images">
        <span>
          {dragging ? 'Cannot import here: ' : 'Import is not possible here: '}
          {refusal}
        </span>
      </section>
    );

  return (
    <section className={`drop-zone${dragging ? ' dragging' : ''}`} aria-label="Import images">
      <span>
        {dragging
          ? 'Drop to import'
          : 'Drop an image here: one file (unified) or two (metadata and rootfs).'}
      </span>
      <label htmlFor={pickerId} className="button">
        Choose files…
      </label>
      <input
        id={pickerId}
        className="visually-hidden"
        type="file"
        multiple
        aria-label="Choose image files"
        onChange={(event) => {
          setFiles([...(event.target.files ?? [])]);
          event.target.value = '';
        }}
      />
      <button type="button" onClick={() => setUrlOpen(true)}>
        Import from URL…
      </button>
      {files === undefined ? null : (
        <ImportFilesDialog
          files={files}
          initialTarget={target}
          onClose={() => setFiles(undefined)}
        />
      )}
      {urlOpen ? (
        <ImportUrlDialog initialTarget={target} onClose={() => setUrlOpen(false)} />
      ) : null}
    </section>
  );
}
