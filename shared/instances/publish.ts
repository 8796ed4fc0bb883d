/** `lxc publish`'s choices, shared by the contract and the Publish dialog (no validators here). */
import { shellQuote } from '../lxc-command.js';

/**
 * The compression algorithms LXD 5.0 accepts for a publish (`compression_algorithm`):
 * LXD checks the tool is installed and refuses any other name ("Invalid compression algorithm").
 */
export const publishCompressions = [
  'gzip',
  'bzip2',
  'lzma',
  'xz',
  'zstd',
  'squashfs',
  'none',
] as const;
export type PublishCompression = (typeof publishCompressions)[number];

export interface PublishCommand {
  source: { remote: string; project?: string | undefined; instance: string; snapshot?: string };
  target: { remote: string; project?: string | undefined };
  aliases: string[];
  public: boolean;
  properties: Record<string, string>;
  expiresAt?: string | undefined;
  compression?: PublishCompression | undefined;
  force: boolean;
}

const inProject = (project: string | undefined) => project ?? 'default';

/**
 * The `lxc publish` line. lxc's `--project` names the project on both sides; a publish
 * into another project of the target is said in a trailing shell comment.
 */
export function publishCommand(input: PublishCommand): string {
  const { source, target } = input;
  const sourceProject = inProject(source.project);
  const args = [
    'lxc',
    'publish',
    `${source.remote}:${source.instance}${source.snapshot === undefined ? '' : `/${source.snapshot}`}`,
    `${target.remote}:`,
    ...input.aliases.flatMap((alias) => ['--alias', alias]),
    ...(input.public ? ['--public'] : []),
    ...(input.compression === undefined ? [] : ['--compression', input.compression]),
    ...(input.expiresAt === undefined ? [] : ['--expire', input.expiresAt]),
    ...(input.force && input.source.snapshot === undefined ? ['--force'] : []),
    ...(sourceProject === 'default' ? [] : ['--project', sourceProject]),
    ...Object.entries(input.properties).map(([key, value]) => `${key}=${value}`),
  ];
  const line = args.map(shellQuote).join(' ');
  const targetProject = inProject(target.project);
  return targetProject === sourceProject
    ? line
    : `${line}  # then moved to project ${targetProject}, as lxc image copy --target-project does`;
}
