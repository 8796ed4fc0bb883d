/**
 * `lxc remote add` as a dialog: an LXD server (trust token, trust password
 * or public) confirmed by its certificate fingerprint, or a simplestreams
 * image server. A failure keeps everything typed.
 */
import { useEffect, useState } from 'react';
import type { AppInfo, RemoteSummary, ServerProbe } from '../../shared/contract';
import { HangarError } from '../../shared/errors';
import { api } from '../api/hangar';
import { Dialog } from '../common/Dialog';
import { Alert } from '../common/fields';
import { groupFingerprint } from '../common/format';

type Protocol = 'lxd' | 'simplestreams';
type AuthMethod = 'token' | 'password' | 'public';

/** State whose every change voids the certificate the user confirmed. */
function useReconfirmed<T>(
  initial: T,
  setProbe: (probe: undefined) => void,
): [T, (value: T) => void] {
  const [value, setValue] = useState(initial);
  return [
    value,
    (next) => {
      setValue(next);
      setProbe(undefined);
    },
  ];
}

export function AddRemoteDialog({
  onClose,
  onAdded,
}: {
  onClose: () => void;
  onAdded: (remote: RemoteSummary) => void;
}) {
  const [name, setName] = useState('');
  const [probe, setProbe] = useState<ServerProbe | undefined>();
  // A changed address or credential must be confirmed again.
  const [protocol, setProtocol] = useReconfirmed<Protocol>('lxd', setProbe);
  const [addr, setAddr] = useReconfirmed('', setProbe);
  const [method, setMethod] = useReconfirmed<AuthMethod>('token', setProbe);
  const [token, setToken] = useReconfirmed('', setProbe);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [info, setInfo] = useState<AppInfo | undefined>();

  useEffect(() => {
    void api.app.info({}).then(setInfo);
  }, []);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (failure) {
      setError(HangarError.from(failure).message);
    } finally {
      setBusy(false);
    }
  };

  const connect = () =>
    run(async () => {
      const result =
        method === 'token' && token.trim() !== '' && addr.trim() === ''
          ? await api.remotes.probe({ token })
          : await api.remotes.probe({ addr });
      setProbe(result);
      const offered = result.tokenClientName;
      // Only into an empty field, read now: a name typed while the server answered is kept.
      if (offered !== undefined && offered !== '')
        setName((current) => (current.trim() === '' ? offered : current));
    });

  const add = () =>
    run(async () => {
      const added =
        protocol === 'simplestreams'
          ? await api.remotes.add({ protocol, name, addr })
          : await api.remotes.add({
              protocol,
              name,
              ...(addr.trim() === '' ? {} : { addr }),
              acceptedFingerprint: probe?.certificate.fingerprint ?? '',
              auth:
                method === 'token'
                  ? { method, token }
                  : method === 'password'
                    ? { method, password }
                    : { method },
            });
      onAdded(added);
    });

  const submit = (event: { preventDefault: () => void }) => {
    event.preventDefault();
    if (protocol === 'lxd' && probe === undefined) void connect();
    else void add();
  };

  const canConnect =
    method === 'token' ? token.trim() !== '' || addr.trim() !== '' : addr.trim() !== '';

  return (
    <Dialog title="Add remote" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label>
          Name
          <input
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder="e.g. server1"
            spellCheck={false}
          />
        </label>
        <fieldset>
          <legend>Protocol</legend>
          <label>
            <input
              type="radio"
              name="protocol"
              checked={protocol === 'lxd'}
              onChange={() => setProtocol('lxd')}
            />
            LXD server
          </label>
          <label>
            <input
              type="radio"
              name="protocol"
              checked={protocol === 'simplestreams'}
              onChange={() => setProtocol('simplestreams')}
            />
            Simplestreams image server
          </label>
        </fieldset>
        <label>
          Address
          <input
            value={addr}
            onChange={(event) => setAddr(event.target.value)}
            placeholder={
              protocol === 'lxd'
                ? 'host, host:port or https://host:8443 (optional with a token)'
                : 'https://images.example.com'
            }
            spellCheck={false}
          />
        </label>
        {protocol === 'lxd' ? (
          <>
            <fieldset>
              <legend>Authentication</legend>
              <label>
                <input
                  type="radio"
                  name="auth"
                  checked={method === 'token'}
                  onChange={() => setMethod('token')}
                />
                Trust token
              </label>
              <label>
                <input
                  type="radio"
                  name="auth"
                  checked={method === 'password'}
                  onChange={() => setMethod('password')}
                />
                Trust password
              </label>
              <label>
                <input
                  type="radio"
                  name="auth"
                  checked={method === 'public'}
                  onChange={() => setMethod('public')}
                />
                Public (no credentials, public images only)
              </label>
            </fieldset>
            {method === 'token' ? (
              <label>
                Token
                <textarea
                  value={token}
                  onChange={(event) => setToken(event.target.value)}
                  placeholder="Run `lxc config trust add` on the server and paste the token"
                  rows={3}
                  spellCheck={false}
                />
              </label>
            ) : null}
            {method === 'password' ? (
              <label>
                Password
                <input
                  type="password"
                  value={password}
                  onChange={(event) => setPassword(event.target.value)}
                  autoComplete="off"
                />
              </label>
            ) : null}
            {info?.keyStorage === 'plaintext' && method !== 'public' ? (
              <p className="notice">{info.keyStorageNotice}</p>
            ) : null}
          </>
        ) : null}

        {probe === undefined ? null : (
          <section className="probe" aria-label="Server certificate">
            <h3>Server certificate</h3>
            <p>
              {probe.url} · {probe.serverName || 'LXD'}{' '}
              {probe.serverVersion === '' ? '' : `· LXD ${probe.serverVersion}`}
            </p>
            <p className="mono fingerprint">{groupFingerprint(probe.certificate.fingerprint)}</p>
            <p className="muted">
              {probe.tokenClientName === undefined
                ? 'Compare this fingerprint with the one `lxc info` shows on the server (certificate_fingerprint) before trusting it.'
                : 'The trust token names this certificate, so it is the server that issued the token.'}{' '}
              Expires {new Date(probe.certificate.expiresAt).toUTCString()}.
            </p>
          </section>
        )}

        <Alert message={error} />
        <div className="buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          {protocol === 'lxd' && probe === undefined ? (
            <button type="submit" className="primary" disabled={busy || !canConnect}>
              {busy ? 'Connecting…' : 'Connect'}
            </button>
          ) : (
            <button
              type="submit"
              className="primary"
              disabled={
                busy || name.trim() === '' || (protocol === 'simplestreams' && addr.trim() === '')
              }
            >
              {busy ? 'Adding…' : protocol === 'lxd' ? 'Trust and add' : 'Add'}
            </button>
          )}
        </div>
      </form>
    </Dialog>
  );
}
