/** The `lxc` command line an action amounts to, to copy into a script. */
export function CommandPreview({ command }: { command: string }) {
  return (
    <p className="command-preview">
      <span className="muted">Equivalent command</span>
      <code aria-label="Equivalent lxc command">{command}</code>
    </p>
  );
}
