/** `lxc image copy`: every option of it, to any LXD remote and project. */
import { useState } from 'react';
import { parseAliases } from '../../shared/images/inputs';
import { copyCommand } from '../../shared/lxc-command';
import type { LxdImage } from '../../shared/lxd';
import { api } from '../api/hangar';
import { useConnection } from '../app/connection-store';
import { Dialog } from '../common/Dialog';
import { Checkbox, TextField } from '../common/fields';
import { DialogFooter } from './DialogFooter';
import { useAction } from './use-action';
import { CommandPreview } from '../common/CommandPreview';
import { TargetPicker, type Target } from './TargetPicker';

export function CopyDialog({
  image,
  source,
  onClose,
}: {
  image: LxdImage;
  source: Target;
  onClose: () => void;
}) {
  const remotes = useConnection((state) => state.remotes);
  const firstOther =
    remotes.find((remote) => remote.protocol === 'lxd' && remote.name !== source.remote)?.name ??
    source.remote;
  const [target, setTarget] = useState<Target>({ remote: firstOther, project: 'default' });
  const [aliasText, setAliasText] = useState('');
  const [copyAliases, setCopyAliases] = useState(false);
  const [autoUpdate, setAutoUpdate] = useState(false);
  const [isPublic, setPublic] = useState(false);
  const { busy, error, run } = useAction(onClose);
  // lxc names the image by its first alias when it has one, else by its fingerprint.
  const ref = image.aliases[0]?.name ?? image.fingerprint;
  const input = {
    source: { ...source, image: ref },
    target,
    aliases: parseAliases(aliasText),
    copyAliases,
    autoUpdate,
    public: isPublic,
  };
  return (
    <Dialog title={`Copy ${ref}`} onClose={onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          run(() => api.images.copy(input));
        }}
      >
        <p className="muted">
          From {source.remote}
          {source.project === 'default' ? '' : ` (project ${source.project})`}:{' '}
          <span className="mono">{image.fingerprint.slice(0, 12)}</span>
        </p>
        <TargetPicker target={target} onChange={setTarget} />
        <TextField
          label="New aliases"
          value={aliasText}
          onChange={setAliasText}
          placeholder="separated by spaces or commas"
        />
        <Checkbox
          label="Copy the source's aliases"
          checked={copyAliases}
          onChange={setCopyAliases}
        />
        <Checkbox
          label="Keep it up to date (auto update)"
          checked={autoUpdate}
          onChange={setAutoUpdate}
        />
        <Checkbox label="Public on the target" checked={isPublic} onChange={setPublic} />
        <CommandPreview command={copyCommand(input)} />
        <DialogFooter error={error} action="Copy" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
