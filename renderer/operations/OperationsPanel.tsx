/** Every long action of the session: progress, cancel, result or error, and its lxc command. */
import { useEffect, useState } from 'react';
import type { OperationSummary } from '../../shared/contract';
import { HangarError } from '../../shared/errors';
import { sizeCell } from '../../shared/images/format';
import { api } from '../api/hangar';
import { remoteHref } from '../app/connection-store';
import { useImages } from '../images/images-store';
import { useOperations } from './operations-store';

const STATE_LABELS: Record<OperationSummary['state'], string> = {
  running: 'Running',
  succeeded: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function Progress({ operation }: { operation: OperationSummary }) {
  const progress = operation.progress;
  if (progress === undefined) return null;
  const bytes =
    progress.processed === undefined
      ? ''
      : progress.total === undefined
        ? ` · ${sizeCell(progress.processed)}`
        : ` · ${sizeCell(progress.processed)} of ${sizeCell(progress.total)}`;
  return (
    <div className="op-progress">
      {operation.state === 'running' ? (
        <progress
          max={100}
          aria-label={`${operation.title}: progress`}
          {...(progress.percent === undefined ? {} : { value: progress.percent })}
        />
      ) : null}
      <span className="muted">
        {operation.state === 'running'
          ? `${progress.stage}${progress.percent === undefined ? '' : ` · ${String(Math.floor(progress.percent))}%`}${bytes}`
          : // Once ended, the last stage is history; what was moved is what matters.
            bytes.replace(/^ · /, '')}
      </span>
    </div>
  );
}

function CommandLine({ command }: { command: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="op-command">
      <code>{command}</code>
      <button
        type="button"
        aria-label={`Copy command: ${command}`}
        onClick={() => {
          void navigator.clipboard.writeText(command).then(() => setCopied(true));
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

function Result({ operation }: { operation: OperationSummary }) {
  const reveal = useImages((state) => state.reveal);
  const result = operation.result;
  if (result === undefined) return null;
  if (result.files !== undefined)
    return (
      <ul className="op-files" aria-label="Exported files">
        {result.files.map((file) => (
          <li key={file} className="mono">
            {file}
          </li>
        ))}
      </ul>
    );
  if (result.instance !== undefined)
    return (
      <p className="muted">
        Instance {result.instance} on {result.remote}
      </p>
    );
  if (result.fingerprint === undefined) return null;
  const { fingerprint, remote, project } = result;
  return (
    <a href={remoteHref(remote, project)} onClick={() => reveal(remote, project, fingerprint)}>
      Show image {fingerprint.slice(0, 12)} on {result.remote}
    </a>
  );
}

function OperationItem({ operation }: { operation: OperationSummary }) {
  const [cancelError, setCancelError] = useState<string | undefined>();
  return (
    <li className={`op op-${operation.state}`} aria-label={operation.title}>
      <div className="op-head">
        <span className="op-title">{operation.title}</span>
        <span className="op-state">{STATE_LABELS[operation.state]}</span>
        {operation.state === 'running' ? (
          <button
            type="button"
            disabled={!operation.mayCancel}
            title={operation.mayCancel ? undefined : 'LXD cannot cancel this step'}
            onClick={() => {
              api.operations
                .cancel({ id: operation.id })
                .catch((error: unknown) => setCancelError(HangarError.from(error).message));
            }}
          >
            Cancel
          </button>
        ) : null}
      </div>
      <Progress operation={operation} />
      {operation.error === undefined || operation.state === 'cancelled' ? null : (
        <p className="error">{operation.error.message}</p>
      )}
      {cancelError === undefined ? null : <p className="error">{cancelError}</p>}
      <Result operation={operation} />
      <CommandLine command={operation.command} />
    </li>
  );
}

export function OperationsPanel() {
  const { operations, load } = useOperations();
  const [open, setOpen] = useState(true);
  useEffect(() => {
    void load();
  }, [load]);
  const running = operations.filter((operation) => operation.state === 'running').length;
  return (
    <section className="operations" aria-label="Operations">
      <header className="operations-head">
        <h2>Operations</h2>
        <span className="muted">
          {running === 0 ? `${operations.length} this session` : `${running} running`}
        </span>
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide' : 'Show'}
        </button>
      </header>
      {open ? (
        operations.length === 0 ? (
          <p className="muted">Copies, imports, exports and launches show here.</p>
        ) : (
          <ul className="op-list">
            {operations.map((operation) => (
              <OperationItem key={operation.id} operation={operation} />
            ))}
          </ul>
        )
      ) : null}
    </section>
  );
}
