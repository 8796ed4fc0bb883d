import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/hangar';
import { UnreachableScreen } from '../connection/Unreachable';
import { LeaveDialog } from '../editing/ConflictDialog';
import { isDirty, useEdit } from '../editing/edit-store';
import { ImagesScreen } from '../images/ImagesScreen';
import { scopeOf, useImages } from '../images/images-store';
import { OperationsPanel } from '../operations/OperationsPanel';
import { useOperations } from '../operations/operations-store';
import { AddRemoteDialog } from '../remotes/AddRemoteDialog';
import { LxcImportOffer } from '../remotes/LxcImportOffer';
import { RemoteActions } from '../remotes/RemoteActions';
import { RemotesNav } from '../remotes/RemotesNav';
import { ImportDropZone } from '../transfers/ImportDropZone';
import { BuildScreen } from '../build/BuildScreen';
import { InstancesScreen } from '../instances/InstancesScreen';
import { ViewSwitch } from '../instances/ViewSwitch';
import { useConnection, useRemoteStatus } from './connection-store';

export function App() {
  const {
    remote,
    remotes,
    project,
    projects,
    setRemotes,
    setStatus,
    loadRemotes,
    selectRemote,
    setProject,
    loadProjects,
  } = useConnection();
  const status = useRemoteStatus(remote);
  const summary = remotes.find((candidate) => candidate.name === remote);
  const currentView = useConnection((state) => state.view);
  const showInstances = currentView === 'instances' && summary?.protocol === 'lxd';
  const showBuild = currentView === 'build' && summary?.protocol === 'lxd';
  const load = useImages((state) => state.load);
  const listChanged = useImages((state) => state.listChanged);
  // A list Hangar kept for this view is shown while the remote connects.
  const listShown = useImages(
    (state) => state.loaded && remote !== undefined && state.scope === scopeOf(remote, project),
  );
  const updateOperation = useOperations((state) => state.update);
  const [adding, setAdding] = useState(false);
  const reload = useCallback(() => {
    if (remote !== undefined) void load(remote, project);
  }, [load, remote, project]);
  const refresh = useCallback(() => {
    if (remote !== undefined) void load(remote, project, true);
  }, [load, remote, project]);

  const guard = useEdit((state) => state.guard);

  useEffect(() => {
    void loadRemotes();
  }, [loadRemotes]);

  // Closing or reloading the window with an unsaved draft asks first.
  useEffect(() => {
    const beforeUnload = (event: BeforeUnloadEvent) => {
      if (isDirty(useEdit.getState())) event.preventDefault();
    };
    window.addEventListener('beforeunload', beforeUnload);
    return () => window.removeEventListener('beforeunload', beforeUnload);
  }, []);

  // One subscription for the page's life: the view on screen is read when an event comes.
  useEffect(
    () =>
      api.subscribe((message) => {
        if (message.event === 'remotes.changed') {
          setRemotes(message.payload.remotes);
        } else if (message.event === 'remote.status') {
          setStatus(message.payload.remote, message.payload.status);
        } else if (message.event === 'operations.changed') {
          updateOperation(message.payload.operation);
        } else if (message.event === 'images.listChanged') {
          // The main process applied LXD's events to the list it holds: the rows in view follow.
          const { remote, project, version } = message.payload;
          listChanged(remote, project, version);
        }
      }),
    [listChanged, setRemotes, setStatus, updateOperation],
  );

  // The page's connection came back after events were lost: what is shown is read again.
  useEffect(
    () =>
      api.onResync(() => {
        void loadRemotes();
        void useOperations.getState().load();
        useImages.getState().resync();
      }),
    [loadRemotes],
  );

  // A new view lists at once; a remote coming back after being unreachable lists again.
  const online = status.state === 'online';
  useEffect(() => {
    reload();
  }, [reload]);
  // The same remote's previous state: another remote that was unreachable says nothing of this one.
  const previousState = useRef({ remote, state: status.state });
  useEffect(() => {
    const previous = previousState.current;
    const wasUnreachable = previous.remote === remote && previous.state === 'unreachable';
    previousState.current = { remote, state: status.state };
    if (status.state === 'online' && wasUnreachable) reload();
  }, [remote, status.state, reload]);
  useEffect(() => {
    if (online) void loadProjects();
  }, [online, remote, loadProjects]);

  return (
    <div className="app">
      <header className="app-head">
        <h1>Hangar</h1>
        <span className="remote">
          {remote}
          {status.state === 'online' ? (
            <span className="muted">
              {' '}
              · {status.serverName}
              {summary?.protocol === 'lxd' ? ` · LXD ${status.serverVersion}` : ' · simplestreams'}
              {status.auth === 'untrusted' && summary?.protocol === 'lxd'
                ? ' · public images only'
                : ''}
            </span>
          ) : null}
        </span>
        {summary === undefined ? null : <RemoteActions key={summary.name} remote={summary} />}
        <ViewSwitch />
        <label className="project">
          Project{' '}
          <select
            value={project}
            onChange={(event) => {
              const next = event.target.value;
              guard(() => setProject(next));
            }}
            disabled={!online || summary?.protocol !== 'lxd'}
          >
            {projects.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
      </header>
      <div className="body">
        <RemotesNav onAdd={() => setAdding(true)} />
        <div className="main-column">
          <LxcImportOffer />
          <ImportDropZone />
          {remote === undefined ? (
            <main className="connecting" aria-busy="true">
              <p>Loading remotes…</p>
            </main>
          ) : status.state === 'unreachable' ? (
            <UnreachableScreen remote={remote} status={status} onRetry={reload} />
          ) : status.state === 'connecting' && !listShown ? (
            <main className="connecting" aria-busy="true">
              <p>
                {summary?.protocol === 'simplestreams'
                  ? `Reading the catalog of ${remote}…`
                  : `Connecting to ${remote}…`}
              </p>
            </main>
          ) : (
            <main className="content">
              {showBuild ? (
                <BuildScreen />
              ) : showInstances ? (
                <InstancesScreen />
              ) : (
                <ImagesScreen onRefresh={refresh} />
              )}
            </main>
          )}
          <OperationsPanel />
        </div>
      </div>
      <LeaveDialog />
      {adding ? (
        <AddRemoteDialog
          onClose={() => setAdding(false)}
          onAdded={(added) => {
            setAdding(false);
            selectRemote(added.name);
          }}
        />
      ) : null}
    </div>
  );
}
