/** The instances of an LXD remote's project: filter, table, details with Publish…. */
import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import type { InstanceSummary } from '../../shared/contract';
import { infoDate } from '../../shared/images/format';
import { api } from '../api/hangar';
import { remoteHref, useConnection } from '../app/connection-store';
import { DetailsSplit } from '../common/DetailsSplit';
import { useImages } from '../images/images-store';
import { filterInstances } from './filter';
import { InstanceTable } from './InstanceTable';
import { PublishDialog } from './PublishDialog';
import { useInstances } from './instances-store';

function InstanceDetails({
  instance,
  onPublish,
  onClose,
}: {
  instance: InstanceSummary | undefined;
  onPublish: (snapshot: string | undefined) => void;
  onClose: () => void;
}) {
  if (instance === undefined)
    return (
      <section className="details empty" aria-label="Instance details">
        <p>Select an instance to publish it or one of its snapshots.</p>
      </section>
    );
  return (
    <section className="details" aria-label="Instance details">
      <header className="details-head">
        <h2>{instance.name}</h2>
        <button type="button" onClick={onClose} aria-label="Close details">
          ×
        </button>
      </header>
      <p className="muted">
        {instance.type} · {instance.status}
        {instance.ephemeral ? ' · ephemeral' : ''}
        {instance.description === '' ? '' : ` · ${instance.description}`}
      </p>
      <div className="buttons">
        <button type="button" onClick={() => onPublish(undefined)}>
          Publish…
        </button>
      </div>
      <h3>Snapshots</h3>
      {instance.snapshots.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul aria-label="Snapshots" className="snapshot-list">
          {instance.snapshots.map((snapshot) => (
            <li key={snapshot.name} aria-label={snapshot.name}>
              <span className="mono">{snapshot.name}</span>{' '}
              <span className="muted">
                {snapshot.created_at === '' ? '' : infoDate(snapshot.created_at)}
              </span>{' '}
              <button type="button" onClick={() => onPublish(snapshot.name)}>
                Publish…
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function InstancesScreen() {
  const { remote = 'local', project } = useConnection();
  const { instances, loaded, loading, error, filter, selected, load, setFilter, select } =
    useInstances();
  const listVersion = useImages((state) => state.view?.version);
  const reveal = useImages((state) => state.reveal);
  const [publishing, setPublishing] = useState<{ snapshot: string | undefined } | undefined>();
  const reload = () => void load(remote, project);
  useEffect(() => {
    void load(remote, project);
  }, [load, remote, project]);
  const deferredFilter = useDeferredValue(filter);
  const rows = useMemo(
    () => filterInstances(instances, deferredFilter),
    [instances, deferredFilter],
  );
  // Base images that are still there, read from the held image list, become links.
  const [known, setKnown] = useState<ReadonlySet<string>>(new Set());
  const bases = useMemo(
    () => [
      ...new Set(
        instances.flatMap((instance) =>
          instance.baseImage !== null && /^[0-9a-f]{64}$/.test(instance.baseImage)
            ? [instance.baseImage]
            : [],
        ),
      ),
    ],
    [instances],
  );
  useEffect(() => {
    let current = true;
    const fingerprints = bases.slice(0, 1000);
    api.images.details({ remote, project, fingerprints }).then(
      (images) => {
        if (current) setKnown(new Set(images.map((image) => image.fingerprint)));
      },
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [bases, remote, project, listVersion]);
  const instance = instances.find((candidate) => candidate.name === selected);
  return (
    <div className="images-screen">
      <div className="toolbar">
        <input
          type="search"
          className="filter"
          aria-label="Filter instances"
          placeholder="Filter: part of the name; key=value on type, status, image or config (e.g. image.os=debian)"
          value={filter}
          onChange={(event) => setFilter(event.target.value)}
          spellCheck={false}
        />
        <span className="count" role="status" aria-live="polite">
          {loaded ? `${rows.length} of ${instances.length} instances` : 'Loading instances…'}
        </span>
        <button type="button" onClick={reload} disabled={loading}>
          Refresh
        </button>
      </div>
      {error === undefined ? null : (
        <p className="error" role="alert">
          Could not list instances: {error.message}
        </p>
      )}
      <DetailsSplit
        paneShown
        table={
          <InstanceTable
            rows={rows}
            selected={selected}
            images={known}
            onSelect={select}
            imageHref={remoteHref(remote, project)}
            onOpenImage={(fingerprint) => reveal(remote, project, fingerprint)}
          />
        }
        details={
          <InstanceDetails
            instance={instance}
            onPublish={(snapshot) => setPublishing({ snapshot })}
            onClose={() => select(undefined)}
          />
        }
      />
      {publishing === undefined || instance === undefined ? null : (
        <PublishDialog
          instance={instance}
          snapshot={publishing.snapshot}
          source={{ remote, project }}
          onClose={() => setPublishing(undefined)}
        />
      )}
    </div>
  );
}
