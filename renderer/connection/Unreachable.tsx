/** Shown instead of a blank window when a remote cannot be reached; recovery is automatic. */
import { useState } from 'react';
import type { RemoteStatus } from '../../shared/contract';
import { HangarError } from '../../shared/errors';
import { api } from '../api/hangar';
import { groupFingerprint } from '../common/format';

type Unreachable = Extract<RemoteStatus, { state: 'unreachable' }>;

function CertificateChanged({
  remote,
  certificate,
}: {
  remote: string;
  certificate: { pinned: string; presented: string };
}) {
  const [error, setError] = useState<string | undefined>();
  const trust = async () => {
    try {
      await api.remotes.trustCertificate({ remote, fingerprint: certificate.presented });
    } catch (failure) {
      setError(HangarError.from(failure).message);
    }
  };
  return (
    <section aria-label="Certificates">
      <dl className="facts">
        <dt>Trusted</dt>
        <dd className="mono">{groupFingerprint(certificate.pinned)}</dd>
        <dt>Presented now</dt>
        <dd className="mono">{groupFingerprint(certificate.presented)}</dd>
      </dl>
      {error === undefined ? null : <p className="error">{error}</p>}
      <button type="button" className="danger" onClick={() => void trust()}>
        Trust the new certificate
      </button>
    </section>
  );
}

export function UnreachableScreen({
  remote,
  status,
  onRetry,
}: {
  remote: string;
  status: Unreachable;
  onRetry: () => void;
}) {
  const userMustAct =
    status.error.code === 'certificate-changed' || status.error.code === 'not-trusted';
  return (
    <main className="unreachable" aria-labelledby="unreachable-title">
      <h1 id="unreachable-title">
        {status.certificate !== undefined
          ? `${remote} presents a different certificate`
          : remote === 'local'
            ? 'Cannot reach LXD'
            : `Cannot reach ${remote}`}
      </h1>
      <p role="alert">{status.error.message}</p>
      {status.certificate === undefined ? null : (
        <CertificateChanged remote={remote} certificate={status.certificate} />
      )}
      {status.tried.length === 0 ? null : (
        <>
          <h2>What Hangar tried</h2>
          <ul>
            {status.tried.map((path) => (
              <li key={path} className="mono">
                {path}
              </li>
            ))}
          </ul>
        </>
      )}
      {userMustAct ? null : (
        <>
          <h2>How to fix it</h2>
          <p>{status.hint}</p>
          <p className="muted">
            Hangar keeps trying and opens the images as soon as the server answers.
          </p>
        </>
      )}
      <button type="button" onClick={onRetry}>
        Retry now
      </button>
    </main>
  );
}
