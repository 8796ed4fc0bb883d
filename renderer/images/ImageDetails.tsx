/** The info pane: everything `lxc image info` shows for the selected image. */
import type { ReactNode } from 'react';
import { toImageInfo } from '../../shared/images/format';
import type { LxdImage } from '../../shared/lxd';
import { ImageActions } from '../transfers/ImageActions';

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

export function ImageDetails({
  image,
  onClose,
}: {
  image: LxdImage | undefined;
  onClose: () => void;
}) {
  if (image === undefined) {
    return (
      <section className="details empty" aria-label="Image details">
        <p>Select an image to see its details.</p>
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

      <h3 id="details-aliases">Aliases</h3>
      {info.aliases.length === 0 ? (
        <p className="muted">No aliases.</p>
      ) : (
        <ul aria-labelledby="details-aliases">
          {info.aliases.map((alias) => (
            <li key={alias.name}>
              <span className="mono">{alias.name}</span>
              {alias.description === '' ? null : (
                <span className="muted"> ({alias.description})</span>
              )}
            </li>
          ))}
        </ul>
      )}

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

      <h3 id="details-profiles">Profiles</h3>
      <ul aria-labelledby="details-profiles">
        {info.profiles.map((profile) => (
          <li key={profile}>{profile}</li>
        ))}
      </ul>
    </section>
  );
}
