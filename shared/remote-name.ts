/**
 * The names Hangar gives its remotes, wherever they come from: typed by the user (the contract's
 * `remotes.add` and `remotes.rename`) or read from the `lxc` client's `config.yml`. Like lxc's,
 * minus what would not survive as a file name: each LXD remote's certificate is kept as
 * `servercerts/<name>.crt`, so `/`, a leading `.` (`..`) and control characters never reach a path.
 */
export const REMOTE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const REMOTE_NAME_RULE =
  'a remote name is letters, digits, ".", "_" and "-" (at most 64), and starts with a letter or digit';

/** Why Hangar cannot use `name` as a remote's name, or undefined when it can. */
export function remoteNameProblem(name: string): string | undefined {
  return REMOTE_NAME_PATTERN.test(name) ? undefined : REMOTE_NAME_RULE;
}
