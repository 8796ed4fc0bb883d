/**
 * The details pane: "Info" (everything `lxc image info` shows, aliases,
 * refresh, delete), "Properties" (the document as a form) and "YAML" (the
 * document as `lxc image edit` shows it), or the images selected together.
 */
import { Suspense, lazy, memo, useEffect, useId, useState, type ReactNode } from 'react';
import type { ImageAccess } from '../../shared/contract';
import { infoDate, isUnsetTime, shortFingerprint, toImageInfo } from '../../shared/images/format';
import { refreshCommand } from '../../shared/lxc-command';
import type { LxdImage } from '../../shared/lxd';
import { api } from '../api/hangar';
import { CommandPreview } from '../common/CommandPreview';
import { Alert } from '../common/fields';
import { AliasesEditor } from '../editing/AliasesEditor';
import { ConflictDialog } from '../editing/ConflictDialog';
import { EditFooter } from '../editing/EditFooter';
import { PropertiesEditor } from '../editing/PropertiesEditor';
import { useEdit } from '../editing/edit-store';
import { ImageActions } from '../transfers/ImageActions';
import { SharingButtons } from '../sharing/SharingButtons';
import { useShallow } from 'zustand/react/shallow';
import { useImages } from './images-store';
import { HangarError } from '../../shared/errors';

// Monaco is loaded when the YAML tab first opens, not before the table paints.
const YamlEditor = lazy(() =>
  import('../editing/YamlEditor').then((module) => ({ default: module.YamlEditor })),
);

type Fact = [label: string, value: ReactNode];

function Facts({ facts, labelledBy }: { facts: Fact[]; labelledBy?: string }) {
  return (
    <dl className="facts" aria-labelledby={labelledBy}>
      {facts.map(([label, value]) => (
        <div key={label} className="fact">
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

type Tab = 'Info' | 'Properties' | 'YAML';
const TABS: Tab[] = ['Info', 'Properties', 'YAML'];

interface Scope {
  remote: string;
  project: string;
}

/** Memoized: the filter box and the table's rows do not draw it again. */
export const ImageDetails = memo(function ImageDetails({
  image,
  scope,
  isLxd,
  onClose,
  onDelete,
}: {
  image: LxdImage | undefined;
  scope: Scope;
  isLxd: boolean;
  onClose: () => void;
  /** Asks to delete the selection (the screen's one Delete dialog). */
  onDelete: () => void;
}) {
  const { selection, selectedImages, access } = useImages(
    useShallow(({ selection, selectedImages, access }) => ({ selection, selectedImages, access })),
  );
  const [tab, setTab] = useState<Tab>('Info');
  const tabsId = useId();
  const open = useEdit((state) => state.open);
  const editable = isLxd && access?.editable === true;
  const readOnlyReason =
    access === undefined ? undefined : access.editable ? undefined : access.reason;

  const fingerprint = image?.fingerprint;
  useEffect(() => {
    if (image === undefined) return;
    void open({ ...scope, fingerprint: image.fingerprint }, image, !isLxd);
    // A list update of the same image reloads its document (a clean draft follows it).
  }, [open, scope.remote, scope.project, fingerprint, image, isLxd]); // eslint-disable-line react-hooks/exhaustive-deps

  if (selection.length > 1) {
    const chosen = selectedImages;
    return (
      <section className="details" aria-label="Image details">
        <header className="details-head">
          <h2>{selection.length} images selected</h2>
          <button type="button" onClick={onClose} aria-label="Close details">
            ×
          </button>
        </header>
        <ul>
          {chosen.map((candidate) => (
            <li key={candidate.fingerprint}>
              <span className="mono">{shortFingerprint(candidate.fingerprint)}</span>{' '}
              {candidate.aliases[0]?.name ?? candidate.properties.description ?? ''}
            </li>
          ))}
        </ul>
        {isLxd ? (
          <SharingButtons fingerprints={selection.slice(0, 1000)} only={undefined} scope={scope} />
        ) : null}
        {selection.length > chosen.length ? (
          <p className="muted">…and {selection.length - chosen.length} more.</p>
        ) : null}
        {selection.length > 1000 ? (
          <p className="muted">Delete… and Export as simplestreams… take at most 1000 at once.</p>
        ) : null}
        {editable && selection.length <= 1000 ? (
          <button type="button" className="danger" onClick={onDelete}>
            Delete…
          </button>
        ) : editable ? null : (
          <ReadOnlyNote reason={readOnlyReason} />
        )}
      </section>
    );
  }

  if (image === undefined) {
    // No pane while nothing is selected: the table then has the width for every column of
    // `lxc image list` (at the window's default 1280 px, the pane hid SIZE and UPLOAD DATE).
    if (selection.length === 0) return null;
    return (
      <section className="details empty" aria-label="Image details" aria-busy="true">
        <p>Reading the image…</p>
      </section>
    );
  }
  const info = toImageInfo(image);
  return (
    <section className="details" aria-label="Image details">
      <header className="details-head">
        <h2>
          {image.properties.description ?? info.aliases[0]?.name ?? info.fingerprint.slice(0, 12)}
        </h2>
        <button type="button" onClick={onClose} aria-label="Close details">
          ×
        </button>
      </header>
      <ImageActions image={image} />
      {isLxd ? (
        <SharingButtons fingerprints={[image.fingerprint]} only={image} scope={scope} />
      ) : null}
      <div role="tablist" aria-label="Image views" className="tabs">
        {TABS.map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={`${tabsId}-${name}`}
            aria-selected={tab === name}
            aria-controls={`${tabsId}-${name}-panel`}
            tabIndex={tab === name ? 0 : -1}
            onClick={() => setTab(name)}
            onKeyDown={(event) => {
              const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
              if (step === 0) return;
              const next = TABS[(TABS.indexOf(name) + step + TABS.length) % TABS.length] ?? name;
              setTab(next);
              document.getElementById(`${tabsId}-${next}`)?.focus();
            }}
          >
            {name}
          </button>
        ))}
      </div>
      <div
        role="tabpanel"
        id={`${tabsId}-${tab}-panel`}
        aria-labelledby={`${tabsId}-${tab}`}
        className="tab-panel"
      >
        {tab === 'Info' ? (
          <InfoTab
            image={image}
            scope={scope}
            editable={editable}
            access={access}
            readOnlyReason={isLxd ? readOnlyReason : undefined}
            onDelete={onDelete}
          />
        ) : (
          <>
            {editable ? null : (
              <ReadOnlyNote
                reason={
                  readOnlyReason ??
                  (isLxd
                    ? undefined
                    : `${scope.remote} is an image server: its images are read-only.`)
                }
              />
            )}
            {tab === 'Properties' ? (
              <PropertiesEditor readOnly={!editable} />
            ) : (
              <YamlTab image={image} readOnly={!editable} />
            )}
            {editable ? <EditFooter /> : null}
          </>
        )}
      </div>
      <ConflictDialog />
    </section>
  );
});

function ReadOnlyNote({ reason }: { reason: string | undefined }) {
  return reason === undefined ? null : <p className="notice">Read-only: {reason}</p>;
}

function YamlTab({ image, readOnly }: { image: LxdImage; readOnly: boolean }) {
  const { yaml, parsed, editYaml, loadError } = useEdit();
  const info = toImageInfo(image);
  const problems = parsed === undefined ? [] : parsed.ok ? parsed.warnings : parsed.problems;
  return (
    <>
      <Facts
        facts={[
          ['Fingerprint', <span className="mono">{info.fingerprint}</span>],
          ['Architecture', info.architecture],
          ['Created', info.timestamps.find((stamp) => stamp.label === 'Created')?.value ?? ''],
          ['Size', info.size],
          ['Type', info.type],
        ]}
      />
      <p className="muted">
        These are fixed when the image is made; the YAML below is what can change.
      </p>
      <Alert message={loadError} />
      <Suspense
        fallback={
          <p className="muted" role="status">
            Loading the editor…
          </p>
        }
      >
        <YamlEditor value={yaml} onChange={editYaml} problems={problems} readOnly={readOnly} />
      </Suspense>
    </>
  );
}

function InfoTab({
  image,
  scope,
  editable,
  access,
  readOnlyReason,
  onDelete,
}: {
  image: LxdImage;
  scope: Scope;
  editable: boolean;
  access: ImageAccess | undefined;
  readOnlyReason: string | undefined;
  onDelete: () => void;
}) {
  const latest = useImages((state) => state.updates[image.fingerprint]);
  const [refreshError, setRefreshError] = useState<string | undefined>();
  const info = toImageInfo(image);
  const hasSource = info.source !== undefined;
  const refresh = () => {
    setRefreshError(undefined);
    api.images
      .refresh({ ...scope, fingerprint: image.fingerprint })
      .catch((failure: unknown) => setRefreshError(HangarError.from(failure).message));
  };
  const cacheExpiry =
    image.cached && access?.cacheExpiryDays !== undefined
      ? new Date(
          Date.parse(isUnsetTime(image.last_used_at) ? image.uploaded_at : image.last_used_at) +
            access.cacheExpiryDays * 86_400_000,
        ).toISOString()
      : undefined;
  return (
    <>
      <ReadOnlyNote reason={readOnlyReason} />
      {latest === undefined ? null : (
        <p className="notice" role="status">
          <strong>update available</strong>: {info.source?.server} now has{' '}
          <span className="mono">{shortFingerprint(latest)}</span> as {info.source?.alias}.
        </p>
      )}
      <Facts
        facts={[
          ['Fingerprint', <span className="mono">{info.fingerprint}</span>],
          [
            'Size',
            <>
              {info.size}{' '}
              <span className="muted">({image.size.toLocaleString('en-US')} bytes)</span>
            </>,
          ],
          ['Architecture', info.architecture],
          ['Type', info.type],
          ['Public', info.public],
          ...info.timestamps.map(({ label, value }): Fact => [label, value]),
          ['Cached', info.cached],
          ...(cacheExpiry === undefined
            ? []
            : [
                [
                  'Leaves the cache',
                  <>
                    {infoDate(cacheExpiry)}{' '}
                    <span className="muted">
                      ({access?.cacheExpiryDays} days after its last use,
                      images.remote_cache_expiry)
                    </span>
                  </>,
                ] as Fact,
              ]),
          ['Auto update', info.autoUpdate],
        ]}
      />

      <h3 id="details-properties">Properties</h3>
      {info.properties.length === 0 ? (
        <p className="muted">No properties.</p>
      ) : (
        <table className="kv" aria-labelledby="details-properties">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {info.properties.map(([key, value]) => (
              <tr key={key}>
                <th scope="row">{key}</th>
                <td>{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <AliasesEditor image={image} scope={scope} editable={editable} />

      <h3 id="details-source">Source</h3>
      {info.source === undefined ? (
        <p className="muted">Not copied from a remote.</p>
      ) : (
        <Facts
          labelledBy="details-source"
          facts={[
            ['Server', info.source.server],
            ['Protocol', info.source.protocol],
            ['Alias', info.source.alias],
          ]}
        />
      )}
      {editable && hasSource ? (
        <div className="refresh">
          <button type="button" onClick={refresh}>
            Refresh image
          </button>
          <CommandPreview command={refreshCommand({ ...scope, fingerprint: image.fingerprint })} />
          <Alert message={refreshError} />
        </div>
      ) : null}

      <h3 id="details-profiles">Profiles</h3>
      <ul aria-labelledby="details-profiles">
        {info.profiles.map((profile) => (
          <li key={profile}>{profile}</li>
        ))}
      </ul>
      {editable ? (
        <div className="buttons left">
          <button type="button" className="danger" onClick={onDelete}>
            Delete…
          </button>
        </div>
      ) : null}
    </>
  );
}
