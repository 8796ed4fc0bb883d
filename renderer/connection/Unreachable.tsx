/** Shown instead of a blank window when LXD cannot be reached; recovery is automatic. */
import type { RemoteStatus } from '../../shared/contract';

type Unreachable = Extract<RemoteStatus, { state: 'unreachable' }>;

export function UnreachableScreen({
  status,
  onRetry,
}: {
  status: Unreachable;
  onRetry: () => void;
}) {
  return (
    <main className="unreachable" aria-labelledby="unreachable-title">
      <h1 id="unreachable-title">Cannot reach LXD</h1>
      <p role="alert">{status.error.message}</p>
      <h2>What Hangar tried</h2>
      <ul>
        {status.tried.map((path) => (
          <li key={path} className="mono">
            {path}
          </li>
        ))}
      </ul>
      <h2>How to fix it</h2>
      <p>{status.hint}</p>
      <p className="muted">Hangar keeps trying and opens your images as soon as LXD answers.</p>
      <button type="button" onClick={onRetry}>
        Retry now
      </button>
    </main>
  );
}
