/** `lxc publish`: an instance or one of its snapshots as an image, on any LXD remote and project. */
import { useId, useState } from 'react';
import type { CallInput, InstanceSummary } from '../../shared/contract';
import { parseAliases, parseProperties } from '../../shared/images/inputs';
import {
  publishCommand,
  publishCompressions,
  type PublishCompression,
} from '../../shared/instances/publish';
import { api } from '../api/hangar';
import { CommandPreview } from '../common/CommandPreview';
import { Dialog } from '../common/Dialog';
import { Alert, Checkbox, TextField } from '../common/fields';
import { DialogFooter } from '../transfers/DialogFooter';
import { TargetPicker, type Target } from '../transfers/TargetPicker';
import { useAction } from '../transfers/use-action';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function PublishDialog({
  instance,
  snapshot,
  source,
  onClose,
}: {
  instance: InstanceSummary;
  /** A snapshot's name, or undefined to publish the instance itself. */
  snapshot: string | undefined;
  source: Target;
  onClose: () => void;
}) {
  const [target, setTarget] = useState<Target>(source);
  const [aliasText, setAliasText] = useState('');
  const [isPublic, setPublic] = useState(false);
  const [propertiesText, setPropertiesText] = useState('');
  const [expiry, setExpiry] = useState('');
  const [compression, setCompression] = useState<PublishCompression | ''>('');
  const [force, setForce] = useState(false);
  const { busy, error, run } = useAction(onClose);
  const compressionId = useId();
  const properties = parseProperties(propertiesText);
  const expiresAt = expiry.trim();
  const expiryError =
    expiresAt === '' || RFC3339.test(expiresAt)
      ? undefined
      : 'The expiry is an RFC 3339 time, e.g. 2030-01-01T00:00:00Z.';
  // A snapshot is published as it is; an instance that is not stopped must be stopped first.
  const running = snapshot === undefined && instance.status !== 'Stopped';
  const input: CallInput<'instances.publish'> = {
    source: {
      ...source,
      instance: instance.name,
      ...(snapshot === undefined ? {} : { snapshot }),
    },
    target,
    aliases: parseAliases(aliasText),
    public: isPublic,
    properties: properties.ok ? properties.properties : {},
    ...(expiresAt === '' || expiryError !== undefined ? {} : { expiresAt }),
    ...(compression === '' ? {} : { compression }),
    force: running && force,
  };
  const what = snapshot === undefined ? instance.name : `${instance.name}/${snapshot}`;
  return (
    <Dialog title="Publish image" onClose={onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          if (!properties.ok || expiryError !== undefined) return;
          run(() => api.instances.publish(input));
        }}
      >
        <p className="muted">
          From {source.remote}
          {source.project === 'default' ? '' : ` (project ${source.project})`}:{' '}
          <span className="mono">{what}</span>
          {snapshot === undefined ? ` (${instance.status.toLowerCase()})` : ' (snapshot)'}
        </p>
        {running ? (
          <fieldset className="notice">
            <legend>{instance.name} is not stopped</legend>
            <p>
              LXD publishes a stopped instance only, and refuses this one as it is. Stop it first,
              or let Hangar stop it for the publish and start it again afterwards (lxc publish
              --force): whatever runs in it is interrupted meanwhile.
            </p>
            <Checkbox
              label={`Stop ${instance.name} for the publish, then start it again`}
              checked={force}
              onChange={setForce}
            />
          </fieldset>
        ) : null}
        <TargetPicker target={target} onChange={setTarget} />
        <TextField
          label="Aliases"
          value={aliasText}
          onChange={setAliasText}
          placeholder="separated by spaces or commas"
        />
        <Checkbox label="Public" checked={isPublic} onChange={setPublic} />
        <TextField
          label="Properties"
          rows={3}
          value={propertiesText}
          onChange={setPropertiesText}
          placeholder="key=value, one per line (e.g. os=debian)"
        />
        <Alert message={properties.ok ? undefined : properties.error} />
        <TextField
          label="Expires at"
          value={expiry}
          onChange={setExpiry}
          placeholder="never; or RFC 3339, e.g. 2030-01-01T00:00:00Z"
        />
        <Alert message={expiryError} />
        <div className="field">
          <label htmlFor={compressionId}>Compression</label>
          <select
            id={compressionId}
            value={compression}
            onChange={(event) => setCompression(event.target.value as PublishCompression | '')}
          >
            <option value="">server default (images.compression_algorithm, gzip)</option>
            {publishCompressions.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <CommandPreview command={publishCommand(input)} />
        <DialogFooter
          error={error}
          action="Publish"
          disabled={busy || !properties.ok || expiryError !== undefined}
          onCancel={onClose}
        />
      </form>
    </Dialog>
  );
}
