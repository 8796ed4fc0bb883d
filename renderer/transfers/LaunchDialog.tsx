/** `lxc launch` / `lxc init`: an instance from this image, on any LXD remote. */
import { useState } from 'react';
import { launchCommand } from '../../shared/lxc-command';
import type { LxdImage } from '../../shared/lxd';
import { api } from '../api/hangar';
import { useConnection } from '../app/connection-store';
import { Dialog } from '../common/Dialog';
import { Checkbox, TextField } from '../common/fields';
import { DialogFooter } from './DialogFooter';
import { useAction } from './use-action';
import { CommandPreview } from '../common/CommandPreview';
import { TargetPicker, type Target } from './TargetPicker';

export function LaunchDialog({
  image,
  source,
  onClose,
}: {
  image: LxdImage;
  source: Target;
  onClose: () => void;
}) {
  const remotes = useConnection((state) => state.remotes);
  const sourceIsLxd = remotes.find((remote) => remote.name === source.remote)?.protocol === 'lxd';
  const [target, setTarget] = useState<Target>(
    sourceIsLxd
      ? source
      : {
          remote: remotes.find((remote) => remote.protocol === 'lxd')?.name ?? 'local',
          project: 'default',
        },
  );
  const [name, setName] = useState('');
  const [profiles, setProfiles] = useState('');
  const [ephemeral, setEphemeral] = useState(false);
  const [start, setStart] = useState(true);
  const { busy, error, run } = useAction(onClose);
  const ref = image.aliases[0]?.name ?? image.fingerprint;
  const profileList = profiles.split(/[\s,]+/).filter((profile) => profile !== '');
  const input = {
    source: { ...source, image: ref },
    target,
    ...(name.trim() === '' ? {} : { name: name.trim() }),
    vm: image.type === 'virtual-machine',
    ephemeral,
    ...(profileList.length === 0 ? {} : { profiles: profileList }),
    start,
  };
  return (
    <Dialog title={`Launch ${ref}`} onClose={onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          run(() => api.instances.launch(input));
        }}
      >
        <TargetPicker target={target} onChange={setTarget} label="On remote" />
        <TextField
          label="Instance name"
          value={name}
          onChange={setName}
          placeholder="LXD picks one when empty"
        />
        <TextField label="Profiles" value={profiles} onChange={setProfiles} placeholder="default" />
        <Checkbox
          label="Ephemeral (deleted when stopped)"
          checked={ephemeral}
          onChange={setEphemeral}
        />
        <Checkbox label="Start it once created" checked={start} onChange={setStart} />
        <CommandPreview command={launchCommand(input)} />
        <DialogFooter
          error={error}
          action={start ? 'Launch' : 'Create'}
          disabled={busy}
          onCancel={onClose}
        />
      </form>
    </Dialog>
  );
}
