/** The sharing actions of the image details pane: one image, or the selection. */
import { useState } from 'react';
import type { LxdImage } from '../../shared/lxd';
import { ShareDialog } from './ShareDialog';
import { StreamsExportDialog } from './StreamsExportDialog';

export function SharingButtons({
  images,
  scope,
}: {
  images: LxdImage[];
  scope: { remote: string; project: string };
}) {
  const [open, setOpen] = useState<'share' | 'streams' | undefined>();
  const only = images.length === 1 ? images[0] : undefined;
  return (
    <div className="buttons left">
      <button type="button" onClick={() => setOpen('streams')} disabled={images.length === 0}>
        Export as simplestreams…
      </button>
      {only === undefined ? null : (
        <button type="button" onClick={() => setOpen('share')}>
          Share…
        </button>
      )}
      {open === 'streams' ? (
        <StreamsExportDialog images={images} scope={scope} onClose={() => setOpen(undefined)} />
      ) : null}
      {open === 'share' && only !== undefined ? (
        <ShareDialog image={only} remote={scope.remote} onClose={() => setOpen(undefined)} />
      ) : null}
    </div>
  );
}
