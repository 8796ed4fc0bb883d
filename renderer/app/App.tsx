import { useCallback, useEffect } from 'react';
import type { ImageChange } from '../../shared/images/changes';
import { api } from '../api/hangar';
import { UnreachableScreen } from '../connection/Unreachable';
import { ImagesScreen } from '../images/ImagesScreen';
import { useImages } from '../images/images-store';
import { useConnection } from './connection-store';

const CHANGE_DEBOUNCE_MS = 100;

export function App() {
  const { remote, project, projects, status, setStatus, setProject, loadProjects } =
    useConnection();
  const load = useImages((state) => state.load);
  const applyChanges = useImages((state) => state.applyChanges);
  const reload = useCallback(() => void load(remote, project), [load, remote, project]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let batch: ImageChange[] = [];
    const unsubscribe = api.subscribe(({ event, payload }) => {
      if (payload.remote !== remote) return;
      if (event === 'remote.status') {
        setStatus(payload.status);
      } else if (payload.project === project) {
        // Bursts of lifecycle events (an import with aliases) are applied together.
        batch.push(payload);
        clearTimeout(timer);
        timer = setTimeout(() => {
          void applyChanges(remote, project, batch);
          batch = [];
        }, CHANGE_DEBOUNCE_MS);
      }
    });
    void api.remotes.status({ remote }).then(setStatus);
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, [remote, project, applyChanges, setStatus]);

  const online = status.state === 'online';
  useEffect(() => {
    if (!online) return;
    reload();
    void loadProjects();
  }, [online, reload, loadProjects]);

  return (
    <div className="app">
      <header className="app-head">
        <h1>Hangar</h1>
        <span className="remote">
          {remote}
          {status.state === 'online' ? (
            <span className="muted">
              {' '}
              · {status.serverName} · LXD {status.serverVersion}
            </span>
          ) : null}
        </span>
        <label className="project">
          Project{' '}
          <select
            value={project}
            onChange={(event) => setProject(event.target.value)}
            disabled={!online}
          >
            {projects.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
      </header>
      {status.state === 'unreachable' ? (
        <UnreachableScreen status={status} onRetry={reload} />
      ) : status.state === 'connecting' ? (
        <main className="connecting" aria-busy="true">
          <p>Connecting to LXD…</p>
        </main>
      ) : (
        <main className="content">
          <ImagesScreen onRefresh={reload} />
        </main>
      )}
    </div>
  );
}
