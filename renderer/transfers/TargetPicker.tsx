/** Where an image goes: an LXD remote and one of its projects. */
import { useEffect, useId, useState } from 'react';
import { api } from '../api/hangar';
import { useConnection } from '../app/connection-store';

export interface Target {
  remote: string;
  project: string;
}

export function TargetPicker({
  target,
  onChange,
  label = 'Target remote',
}: {
  target: Target;
  onChange: (target: Target) => void;
  label?: string;
}) {
  const remotes = useConnection((state) => state.remotes).filter(
    (remote) => remote.protocol === 'lxd',
  );
  const [projects, setProjects] = useState<string[]>([target.project]);
  const remoteId = useId();
  const projectId = useId();
  useEffect(() => {
    let current = true;
    api.projects
      .list({ remote: target.remote })
      .then((names) => {
        if (current) setProjects(names);
      })
      .catch(() => {
        if (current) setProjects(['default']);
      });
    return () => {
      current = false;
    };
  }, [target.remote]);
  return (
    <div className="field-row">
      <div className="field">
        <label htmlFor={remoteId}>{label}</label>
        <select
          id={remoteId}
          value={target.remote}
          onChange={(event) => onChange({ remote: event.target.value, project: 'default' })}
        >
          {remotes.map((remote) => (
            <option key={remote.name} value={remote.name}>
              {remote.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={projectId}>Target project</label>
        <select
          id={projectId}
          value={target.project}
          onChange={(event) => onChange({ ...target, project: event.target.value })}
        >
          {(projects.includes(target.project) ? projects : [...projects, target.project]).map(
            (project) => (
              <option key={project}>{project}</option>
            ),
          )}
        </select>
      </div>
    </div>
  );
}

/** The lxc command a dialog will run, shown before it runs. */
