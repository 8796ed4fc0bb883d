/** First run: offers the lxc client's remotes (read only; lxc's files are never changed). */
import { useEffect, useState } from 'react';
import type { LxcImportOffer as Offer } from '../../shared/contract';
import { HangarError } from '../../shared/errors';
import { api } from '../api/hangar';
import { Alert } from '../common/fields';

export function LxcImportOffer() {
  const [offer, setOffer] = useState<Offer | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    void api.remotes.lxcOffer({}).then((next) => {
      setOffer(next);
      setChosen(new Set(next?.remotes.filter((r) => r.conflict === undefined).map((r) => r.name)));
    });
  }, []);
  if (offer === null) return null;

  const toggle = (name: string) => {
    const next = new Set(chosen);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setChosen(next);
  };
  const finish = async (work: () => Promise<unknown>) => {
    try {
      await work();
      setOffer(null);
    } catch (failure) {
      setError(HangarError.from(failure).message);
    }
  };

  return (
    <section className="lxc-offer" aria-label="Import remotes from lxc">
      <h2>Import your lxc remotes?</h2>
      <p className="muted">
        Found in {offer.configDir}.{' '}
        {offer.hasClientCertificate
          ? "lxc's client certificate comes along, so servers that trust lxc trust Hangar."
          : ''}
      </p>
      <ul>
        {offer.remotes.map((remote) => (
          <li key={remote.name}>
            <label>
              <input
                type="checkbox"
                checked={chosen.has(remote.name)}
                disabled={remote.conflict !== undefined}
                onChange={() => toggle(remote.name)}
              />
              <strong>{remote.name}</strong> <span className="mono">{remote.addr}</span>{' '}
              <span className="muted">
                {remote.protocol}
                {remote.public ? ', public' : ''}
                {remote.conflict === undefined ? '' : ` — ${remote.conflict}`}
              </span>
            </label>
          </li>
        ))}
      </ul>
      <Alert message={error} />
      <div className="buttons">
        <button type="button" onClick={() => void finish(() => api.remotes.dismissLxcImport({}))}>
          Don't import
        </button>
        <button
          type="button"
          className="primary"
          disabled={chosen.size === 0}
          onClick={() => void finish(() => api.remotes.importLxc({ names: [...chosen] }))}
        >
          Import {chosen.size} remote{chosen.size === 1 ? '' : 's'}
        </button>
      </div>
    </section>
  );
}
