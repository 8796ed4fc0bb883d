/** The sharing actions of the image details pane: one image, or the selection. */
import { useState } from 'react';
import type { LxdImage } from '../../shared/lxd';
import { ShareDialog } from './ShareDialog';
import { StreamsExportDialog } from './StreamsExportDialog';

export function SharingButtons({
  fingerprints,
  only,
  scope,
}: {
  /** The selected images (at most 1000: what one export takes). */
  fingerprints: string[];
  /** The image, when one is selected: Share… tells others how to use it. */
  only: LxdImage | undefined;
  scope: { remote: string; project: string };
}) {
  const [open, setOpen] = useState<'share' | 'streams' | undefined>();
  return (
    <div className="buttons left">
      <button type="button" onClick={() => setOpen('streams')} disabled={fingerprints.length === 0}>
        Export as simplestreams…
      </button>
      {only === undefined ? null : (
        <button type="button" onClick={() => setOpen('share')}>
          Share…
        </button>
      )}
      {open === 'streams' ? (
        <StreamsExportDialog
          fingerprints={fingerprints}
          scope={scope}
          onClose={() => setOpen(undefined)}
        />
      ) : null}
      {open === 'share' && only !== undefined ? (
        <ShareDialog image={only} remote={scope.remote} onClose={() => setOpen(undefined)} />
      ) : null}
    </div>
  );
}
