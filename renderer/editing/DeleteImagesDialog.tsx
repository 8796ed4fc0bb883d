/**
 * `lxc image delete` for one or many images: what goes with them (their
 * aliases) and what stays (instances created from them keep working).
 */
import { useEffect, useState } from 'react';
import type { ImageUsage } from '../../shared/contract';
import { HangarError } from '../../shared/errors';
import { aliasCell, shortFingerprint } from '../../shared/images/format';
import { deleteCommand } from '../../shared/lxc-command';
import type { LxdImage } from '../../shared/lxd';
import { api } from '../api/hangar';
import { remoteHref } from '../app/connection-store';
import { useInstances } from '../instances/instances-store';
import { CommandPreview } from '../common/CommandPreview';
import { Dialog } from '../common/Dialog';
import { DialogFooter } from '../transfers/DialogFooter';
import { useAction } from '../transfers/use-action';

export function DeleteImagesDialog({
  images,
  scope,
  onClose,
}: {
  images: LxdImage[];
  scope: { remote: string; project: string };
  onClose: () => void;
}) {
  const [usage, setUsage] = useState<ImageUsage[] | undefined>();
  const [usageError, setUsageError] = useState<string | undefined>();
  const { busy, error, run } = useAction(onClose);
  const fingerprints = images.map((image) => image.fingerprint);
  const key = fingerprints.join(',');
  useEffect(() => {
    let current = true;
    api.images.usage({ ...scope, fingerprints: key.split(',') }).then(
      (found) => {
        if (current) setUsage(found);
      },
      (failure: unknown) => {
        if (current) setUsageError(HangarError.from(failure).message);
      },
    );
    return () => {
      current = false;
    };
  }, [key, scope.remote, scope.project]); // eslint-disable-line react-hooks/exhaustive-deps

  const aliases = images.flatMap((image) => image.aliases.map((alias) => alias.name));
  const instances = (usage ?? []).flatMap((entry) => entry.instances);
  const title = images.length === 1 ? 'Delete image' : `Delete ${images.length} images`;
  return (
    <Dialog title={title} onClose={onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          run(() => api.images.delete({ ...scope, fingerprints }));
        }}
      >
        <ul className="delete-list" aria-label="Images to delete">
          {images.map((image) => (
            <li key={image.fingerprint}>
              <span className="mono">{shortFingerprint(image.fingerprint)}</span> {aliasCell(image)}{' '}
              {image.properties.description ?? ''}
            </li>
          ))}
        </ul>
        {aliases.length === 0 ? (
          <p className="muted">No aliases go with them.</p>
        ) : (
          <>
            <p>These aliases are deleted with them:</p>
            <ul aria-label="Aliases deleted with them">
              {aliases.map((name) => (
                <li key={name} className="mono">
                  {name}
                </li>
              ))}
            </ul>
          </>
        )}
        {usageError !== undefined ? (
          <p className="notice">Could not list the instances that use them: {usageError}</p>
        ) : usage === undefined ? (
          <p className="muted" role="status">
            Looking for instances created from them…
          </p>
        ) : instances.length === 0 ? (
          <p className="muted" role="status">
            No instance was created from them.
          </p>
        ) : (
          <>
            <p role="status">
              Created from them (they keep working: LXD keeps what an instance needs):
            </p>
            <ul aria-label="Instances created from them">
              {instances.map((instance) => (
                <li key={`${instance.project}/${instance.name}`}>
                  {/* Leads to the Instances view, with the instance selected. */}
                  <a
                    href={remoteHref(scope.remote, instance.project, 'instances')}
                    onClick={() =>
                      useInstances.getState().reveal(scope.remote, instance.project, instance.name)
                    }
                  >
                    {instance.name}
                  </a>
                  {instance.project === scope.project ? '' : ` (project ${instance.project})`}
                </li>
              ))}
            </ul>
          </>
        )}
        <CommandPreview command={deleteCommand({ ...scope, fingerprints })} />
        <DialogFooter error={error} action="Delete" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
