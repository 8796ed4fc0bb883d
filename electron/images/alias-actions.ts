/**
 * `lxc image alias create/rename/delete`, and one PUT that changes an
 * alias's description or points it at another image. Every refusal names the
 * alias and says that nothing changed.
 */
import type { Handlers } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import type { LxdClient } from '../lxd/client.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { where, type ReadOnlyProjects } from './read-only.js';

/** As lxc escapes it (Go's url.PathEscape): "/" and "%" in a name are encoded once. */
export const aliasPath = (name: string) => `/1.0/images/aliases/${encodeURIComponent(name)}`;

/** LXD 5.0 answers 409 for a name taken; some versions answer 400 "... already exists". */
const isTaken = (failure: HangarError) =>
  failure.code === 'conflict' || /already (exists|in use)/i.test(failure.message);

type AliasHandlers = Pick<
  Handlers,
  'images.aliasCreate' | 'images.aliasUpdate' | 'images.aliasRename' | 'images.aliasDelete'
>;

export function aliasHandlers(remotes: RemoteRegistry, readOnly: ReadOnlyProjects): AliasHandlers {
  /** Runs one alias request; `explain` turns LXD's refusals into messages for people. */
  const change = async (
    remote: string,
    project: string | undefined,
    send: (client: LxdClient) => Promise<unknown>,
    explain: (failure: HangarError, place: string) => HangarError | undefined,
  ): Promise<null> => {
    await readOnly.write(remote, project, () =>
      remotes.lxd(remote).withClient(async (client) => {
        try {
          await send(client);
        } catch (error) {
          const failure = HangarError.from(error);
          throw explain(failure, where(remote, project)) ?? failure;
        }
      }),
    );
    return null;
  };
  const noAlias = (name: string, place: string) =>
    new HangarError(
      'not-found',
      `${place} has no alias "${name}" (it may have been renamed or deleted meanwhile): nothing was changed.`,
      { status: 404 },
    );
  const noImage = (target: string, place: string, name: string) =>
    new HangarError(
      'not-found',
      `${place} has no image ${target}: the alias "${name}" was not changed.`,
      { status: 404 },
    );

  return {
    'images.aliasCreate': ({ remote, project, name, target, description }) =>
      change(
        remote,
        project,
        (client) =>
          client.request('/1.0/images/aliases', {
            method: 'POST',
            project,
            body: { name, target, description },
          }),
        (failure, place) =>
          isTaken(failure)
            ? new HangarError(
                'conflict',
                `The alias "${name}" already exists in ${place}: nothing was changed. Choose another name, or move that alias to this image.`,
                { status: failure.status ?? 409 },
              )
            : failure.code === 'not-found'
              ? noImage(target, place, name)
              : undefined,
      ),

    'images.aliasUpdate': ({ remote, project, name, target, description }) =>
      change(
        remote,
        project,
        (client) =>
          client.request(aliasPath(name), {
            method: 'PUT',
            project,
            body: { target, description },
          }),
        (failure, place) =>
          failure.code !== 'not-found'
            ? undefined
            : /alias/i.test(failure.message)
              ? noAlias(name, place)
              : noImage(target, place, name),
      ),

    'images.aliasRename': async ({ remote, project, name, newName }) => {
      if (newName === name) return null;
      return change(
        remote,
        project,
        // LXD 5.0.2 takes about 10 s to answer a rename (the rename itself is done at once).
        (client) =>
          client.request(aliasPath(name), { method: 'POST', project, body: { name: newName } }),
        (failure, place) =>
          isTaken(failure)
            ? new HangarError(
                'conflict',
                `The alias "${newName}" already exists in ${place}: "${name}" was not renamed.`,
                { status: failure.status ?? 409 },
              )
            : failure.code === 'not-found'
              ? noAlias(name, place)
              : undefined,
      );
    },

    'images.aliasDelete': ({ remote, project, name }) =>
      change(
        remote,
        project,
        (client) => client.request(aliasPath(name), { method: 'DELETE', project }),
        (failure, place) => (failure.code === 'not-found' ? noAlias(name, place) : undefined),
      ),
  };
}
