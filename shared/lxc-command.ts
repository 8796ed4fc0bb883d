/**
 * The `lxc` command line for what the user just did in Hangar, to copy into
 * a script. Remote names are Hangar's, which are lxc's when imported from it.
 */

/** POSIX shell quoting: bare when safe, else single quotes. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_\-.,:/@%+=]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

function line(args: (string | false | undefined)[]): string {
  return ['lxc', ...args.filter((arg): arg is string => typeof arg === 'string')]
    .map(shellQuote)
    .join(' ');
}

const projectFlag = (project: string | undefined) =>
  project === undefined || project === 'default' ? [] : ['--project', project];
const aliasFlags = (aliases: string[]) => aliases.flatMap((alias) => ['--alias', alias]);

export interface CopyCommand {
  source: { remote: string; project?: string | undefined; image: string };
  target: { remote: string; project?: string | undefined };
  aliases: string[];
  copyAliases: boolean;
  autoUpdate: boolean;
  public: boolean;
}

export function copyCommand(input: CopyCommand): string {
  const { source, target } = input;
  return line([
    'image',
    'copy',
    `${source.remote}:${source.image}`,
    `${target.remote}:`,
    ...aliasFlags(input.aliases),
    input.copyAliases && '--copy-aliases',
    input.autoUpdate && '--auto-update',
    input.public && '--public',
    ...projectFlag(source.project),
    ...(target.project === undefined || target.project === (source.project ?? 'default')
      ? []
      : ['--target-project', target.project]),
  ]);
}

export function importCommand(input: {
  remote: string;
  project?: string | undefined;
  files: string[];
  aliases: string[];
  public: boolean;
  properties: Record<string, string>;
}): string {
  return line([
    'image',
    'import',
    ...input.files,
    `${input.remote}:`,
    ...aliasFlags(input.aliases),
    input.public && '--public',
    ...projectFlag(input.project),
    ...Object.entries(input.properties).map(([key, value]) => `${key}=${value}`),
  ]);
}

export function exportCommand(input: {
  remote: string;
  project?: string | undefined;
  fingerprint: string;
  directory: string;
}): string {
  return line([
    'image',
    'export',
    `${input.remote}:${input.fingerprint}`,
    input.directory.endsWith('/') ? input.directory : `${input.directory}/`,
    ...projectFlag(input.project),
  ]);
}

export function launchCommand(input: {
  source: { remote: string; image: string };
  target: { remote: string; project?: string | undefined };
  name?: string | undefined;
  vm: boolean;
  ephemeral: boolean;
  profiles?: string[] | undefined;
  start: boolean;
}): string {
  return line([
    input.start ? 'launch' : 'init',
    `${input.source.remote}:${input.source.image}`,
    `${input.target.remote}:${input.name ?? ''}`,
    input.vm && '--vm',
    input.ephemeral && '--ephemeral',
    ...(input.profiles ?? []).flatMap((profile) => ['--profile', profile]),
    ...projectFlag(input.target.project),
  ]);
}

interface OnImages {
  remote: string;
  project?: string | undefined;
}

/** `lxc image edit` reads the YAML from standard input when it is not a terminal. */
export function editCommand(input: OnImages & { fingerprint: string }): string {
  return `${line(['image', 'edit', `${input.remote}:${input.fingerprint}`, ...projectFlag(input.project)])} < image.yaml`;
}

export function deleteCommand(input: OnImages & { fingerprints: string[] }): string {
  return line([
    'image',
    'delete',
    ...input.fingerprints.map((fingerprint) => `${input.remote}:${fingerprint}`),
    ...projectFlag(input.project),
  ]);
}

export function refreshCommand(input: OnImages & { fingerprint: string }): string {
  return line([
    'image',
    'refresh',
    `${input.remote}:${input.fingerprint}`,
    ...projectFlag(input.project),
  ]);
}

/** lxc's alias commands; LXD 5.0's `lxc image alias create` cannot set a description. */
export function aliasCommand(
  input: OnImages &
    (
      | { action: 'create'; name: string; target: string }
      | { action: 'rename'; name: string; newName: string }
      | { action: 'delete'; name: string }
      /** lxc has no move: delete, then create on the other image. */
      | { action: 'move'; name: string; target: string }
    ),
): string {
  const project = projectFlag(input.project);
  const alias = `${input.remote}:${input.name}`;
  switch (input.action) {
    case 'create':
      return line(['image', 'alias', 'create', alias, input.target, ...project]);
    case 'rename':
      return line(['image', 'alias', 'rename', alias, input.newName, ...project]);
    case 'delete':
      return line(['image', 'alias', 'delete', alias, ...project]);
    case 'move':
      return `${line(['image', 'alias', 'delete', alias, ...project])} && ${line(['image', 'alias', 'create', alias, input.target, ...project])}`;
  }
}
