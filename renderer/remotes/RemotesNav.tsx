/** The sidebar: one link per remote with its state, and "Add remote". */
import type { RemoteStatus } from '../../shared/contract';
import { remoteHref, useConnection } from '../app/connection-store';
import { useEdit } from '../editing/edit-store';

function stateLabel(status: RemoteStatus | undefined): { label: string; className: string } {
  if (status === undefined || status.state === 'connecting')
    return { label: 'not connected yet', className: 'idle' };
  if (status.state === 'unreachable')
    return {
      label: status.certificate === undefined ? 'unreachable' : 'certificate changed',
      className: 'down',
    };
  if (status.catalog?.offlineError !== undefined)
    return { label: 'offline, cached catalog', className: 'stale' };
  return { label: 'online', className: 'up' };
}

export function RemotesNav({ onAdd }: { onAdd: () => void }) {
  const { remotes, statuses, remote: current } = useConnection();
  const guard = useEdit((state) => state.guard);
  return (
    <nav className="sidebar" aria-label="Remotes">
      <h2>Remotes</h2>
      <ul>
        {remotes.map((remote) => {
          const state = stateLabel(statuses[remote.name]);
          return (
            <li key={remote.name}>
              <a
                href={remoteHref(remote.name)}
                aria-current={remote.name === current ? 'page' : undefined}
                onClick={(event) => {
                  // Unsaved changes are asked about before the view changes.
                  if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey)
                    return;
                  event.preventDefault();
                  guard(() => {
                    location.hash = remoteHref(remote.name);
                  });
                }}
                title={`${remote.addr} (${remote.protocol}, ${state.label}${remote.isDefault ? ', default remote' : ''})`}
              >
                <span className={`dot ${state.className}`} aria-hidden="true" />
                <span className="remote-name">{remote.name}</span>
                {/* The link is named by the remote alone; its title says it is the default. */}
                {remote.isDefault ? (
                  <span className="muted" aria-hidden="true">
                    default
                  </span>
                ) : null}
              </a>
            </li>
          );
        })}
      </ul>
      <button type="button" onClick={onAdd}>
        Add remote
      </button>
    </nav>
  );
}
