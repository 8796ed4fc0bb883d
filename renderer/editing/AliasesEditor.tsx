/**
 * An image's aliases: create (with a description), rename, describe, move
 * to another image and delete, each one request to LXD (`lxc image alias`).
 */
import { useEffect, useId, useState } from 'react';
import { aliasCommand } from '../../shared/lxc-command';
import type { LxdImage, LxdImageAlias } from '../../shared/lxd';
import { api } from '../api/hangar';
import { CommandPreview } from '../common/CommandPreview';
import { Dialog } from '../common/Dialog';
import { TextField } from '../common/fields';
import { DialogFooter } from '../transfers/DialogFooter';
import { useAction } from '../transfers/use-action';
import type { ImageRow } from '../../shared/images/format';
import { LXC_SORT } from '../../shared/images/view';

type AliasAction =
  | { kind: 'create' }
  | { kind: 'rename'; alias: LxdImageAlias }
  | { kind: 'describe'; alias: LxdImageAlias }
  | { kind: 'move'; alias: LxdImageAlias }
  | { kind: 'delete'; alias: LxdImageAlias };

interface Scope {
  remote: string;
  project: string;
}

/** The move dialog lists this many images; "Find image" narrows them. */
const MOVE_CHOICES = 50;

export function AliasesEditor({
  image,
  scope,
  editable,
}: {
  image: LxdImage;
  scope: Scope;
  editable: boolean;
}) {
  const [action, setAction] = useState<AliasAction | undefined>();
  const close = () => setAction(undefined);
  return (
    <>
      <h3 id="details-aliases">Aliases</h3>
      {image.aliases.length === 0 ? <p className="muted">No aliases.</p> : null}
      <ul aria-labelledby="details-aliases" className="aliases">
        {image.aliases.map((alias) => (
          <li key={alias.name}>
            <span className="mono">{alias.name}</span>
            {alias.description === '' ? null : (
              <span className="muted"> ({alias.description})</span>
            )}
            {editable ? (
              <span className="alias-actions">
                <button
                  type="button"
                  aria-label={`Rename alias ${alias.name}`}
                  onClick={() => setAction({ kind: 'rename', alias })}
                >
                  Rename
                </button>
                <button
                  type="button"
                  aria-label={`Describe alias ${alias.name}`}
                  onClick={() => setAction({ kind: 'describe', alias })}
                >
                  Describe
                </button>
                <button
                  type="button"
                  aria-label={`Move alias ${alias.name}`}
                  onClick={() => setAction({ kind: 'move', alias })}
                >
                  Move…
                </button>
                <button
                  type="button"
                  aria-label={`Delete alias ${alias.name}`}
                  onClick={() => setAction({ kind: 'delete', alias })}
                >
                  Delete
                </button>
              </span>
            ) : null}
          </li>
        ))}
      </ul>
      {editable ? (
        <button type="button" onClick={() => setAction({ kind: 'create' })}>
          Add alias
        </button>
      ) : null}
      {action === undefined ? null : (
        <AliasDialog action={action} image={image} scope={scope} onClose={close} />
      )}
    </>
  );
}

function AliasDialog({
  action,
  image,
  scope,
  onClose,
}: {
  action: AliasAction;
  image: LxdImage;
  scope: Scope;
  onClose: () => void;
}) {
  // Images to move the alias to: the first matches of a filter, read from the held list.
  const [search, setSearch] = useState('');
  const [others, setOthers] = useState<ImageRow[]>([]);
  useEffect(() => {
    if (action.kind !== 'move') return;
    let current = true;
    api.images
      .view({ ...scope, filter: search, sort: LXC_SORT, offset: 0, limit: MOVE_CHOICES + 1 })
      .then(
        (view) => {
          if (current)
            setOthers(
              view.rows
                .filter((row) => row.fingerprint !== image.fingerprint)
                .slice(0, MOVE_CHOICES),
            );
        },
        () => undefined,
      );
    return () => {
      current = false;
    };
  }, [action.kind, scope, search, image.fingerprint]);
  const current = action.kind === 'create' ? undefined : action.alias;
  const [name, setName] = useState(current?.name ?? '');
  const [description, setDescription] = useState(current?.description ?? '');
  const [chosenTarget, setTarget] = useState('');
  // The first choice until one is made (or when the filter hides the one chosen).
  const target = others.some((row) => row.fingerprint === chosenTarget)
    ? chosenTarget
    : (others[0]?.fingerprint ?? '');
  const targetId = useId();
  const { busy, error, run } = useAction(onClose);

  const alias = current?.name ?? name.trim();
  const titles: Record<AliasAction['kind'], string> = {
    create: 'Add alias',
    rename: `Rename alias ${alias}`,
    describe: `Describe alias ${alias}`,
    move: `Move alias ${alias}`,
    delete: `Delete alias ${alias}`,
  };
  const submit = (): Promise<unknown> => {
    switch (action.kind) {
      case 'create':
        return api.images.aliasCreate({
          ...scope,
          name: name.trim(),
          target: image.fingerprint,
          description,
        });
      case 'rename':
        return api.images.aliasRename({ ...scope, name: action.alias.name, newName: name.trim() });
      case 'describe':
        return api.images.aliasUpdate({
          ...scope,
          name: action.alias.name,
          target: image.fingerprint,
          description,
        });
      case 'move':
        return api.images.aliasUpdate({
          ...scope,
          name: action.alias.name,
          target,
          description: action.alias.description,
        });
      case 'delete':
        return api.images.aliasDelete({ ...scope, name: action.alias.name });
    }
  };
  const command =
    action.kind === 'create'
      ? aliasCommand({ ...scope, action: 'create', name: name.trim(), target: image.fingerprint })
      : action.kind === 'rename'
        ? aliasCommand({
            ...scope,
            action: 'rename',
            name: action.alias.name,
            newName: name.trim(),
          })
        : action.kind === 'move'
          ? aliasCommand({ ...scope, action: 'move', name: action.alias.name, target })
          : action.kind === 'delete'
            ? aliasCommand({ ...scope, action: 'delete', name: action.alias.name })
            : undefined;
  const missingName = (action.kind === 'create' || action.kind === 'rename') && name.trim() === '';
  const unchanged = action.kind === 'rename' && name.trim() === action.alias.name;

  return (
    <Dialog title={titles[action.kind]} onClose={onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          run(submit);
        }}
      >
        {action.kind === 'create' || action.kind === 'rename' ? (
          <TextField
            label={action.kind === 'create' ? 'Alias name' : 'New name'}
            value={name}
            onChange={setName}
          />
        ) : null}
        {action.kind === 'create' || action.kind === 'describe' ? (
          <TextField label="Description" value={description} onChange={setDescription} />
        ) : null}
        {action.kind === 'move' ? (
          <>
            <TextField label="Find image" value={search} onChange={setSearch} />
            {others.length === 0 ? (
              <p className="muted">
                {search === ''
                  ? 'There is no other image here to move it to.'
                  : 'No other image matches.'}
              </p>
            ) : (
              <div className="field">
                <label htmlFor={targetId}>Move to image</label>
                <select
                  id={targetId}
                  value={target}
                  onChange={(event) => setTarget(event.target.value)}
                >
                  {others.map((candidate) => (
                    <option key={candidate.fingerprint} value={candidate.fingerprint}>
                      {candidate.shortFingerprint} {candidate.alias || candidate.description}
                    </option>
                  ))}
                </select>
              </div>
            )}
          </>
        ) : null}
        {action.kind === 'delete' ? (
          <p>
            The image stays; only the name <span className="mono">{action.alias.name}</span> goes.
          </p>
        ) : null}
        {command === undefined ? null : <CommandPreview command={command} />}
        <DialogFooter
          error={error}
          action={
            { create: 'Add', rename: 'Rename', describe: 'Save', move: 'Move', delete: 'Delete' }[
              action.kind
            ]
          }
          disabled={busy || missingName || unchanged || (action.kind === 'move' && target === '')}
          onCancel={onClose}
        />
      </form>
    </Dialog>
  );
}
