/** "Images | Instances" for an LXD remote: which of the two the main column shows (in the URL). */
import { remoteHref, useConnection, type View } from '../app/connection-store';
import { useEdit } from '../editing/edit-store';

const VIEWS: { view: View; label: string }[] = [
  { view: 'images', label: 'Images' },
  { view: 'instances', label: 'Instances' },
  { view: 'build', label: 'Build image' },
];

export function ViewSwitch() {
  const { remote, project, view, remotes } = useConnection();
  const guard = useEdit((state) => state.guard);
  const isLxd = remotes.find((candidate) => candidate.name === remote)?.protocol === 'lxd';
  if (remote === undefined || !isLxd) return null;
  return (
    <nav className="view-switch" aria-label={`Views of ${remote}`}>
      {VIEWS.map(({ view: target, label }) => (
        <a
          key={target}
          href={remoteHref(remote, project, target)}
          aria-current={target === view ? 'page' : undefined}
          onClick={(event) => {
            if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
            event.preventDefault();
            // Unsaved image edits are asked about before the view changes.
            guard(() => useConnection.getState().setView(target));
          }}
        >
          {label}
        </a>
      ))}
    </nav>
  );
}
