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
