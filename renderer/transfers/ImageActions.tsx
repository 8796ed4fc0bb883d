/** What can be done with the selected image: copy, export, launch. */
import { useState } from 'react';
import type { LxdImage } from '../../shared/lxd';
import { useConnection } from '../app/connection-store';
import { CopyDialog } from './CopyDialog';
import { ExportDialog } from './ExportDialog';
import { LaunchDialog } from './LaunchDialog';

export function ImageActions({ image }: { image: LxdImage }) {
  const { remote = 'local', project, remotes } = useConnection();
  const [open, setOpen] = useState<'copy' | 'export' | 'launch' | undefined>();
  const isLxd = remotes.find((candidate) => candidate.name === remote)?.protocol === 'lxd';
  const source = { remote, project: isLxd ? project : 'default' };
  const close = () => setOpen(undefined);
  return (
    <div className="image-actions">
      <button type="button" onClick={() => setOpen('copy')}>
        Copy to…
      </button>
      {isLxd ? (
        <button type="button" onClick={() => setOpen('export')}>
          Export…
        </button>
      ) : null}
      <button type="button" onClick={() => setOpen('launch')}>
        Launch…
      </button>
      {open === 'copy' ? <CopyDialog image={image} source={source} onClose={close} /> : null}
      {open === 'export' ? <ExportDialog image={image} source={source} onClose={close} /> : null}
      {open === 'launch' ? <LaunchDialog image={image} source={source} onClose={close} /> : null}
    </div>
  );
}
