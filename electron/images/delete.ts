/**
 * `lxc image delete` for one or many images, as one operation: each image in
 * turn (LXD deletes it in an operation of its own), a cancel stops before
 * the next. An image someone else deleted meanwhile is counted as gone, not
 * as a failure.
 */
import type { CallInput, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { deleteCommand } from '../../shared/lxc-command.js';
import { OperationError, type OperationResult, type Operations } from '../operations/registry.js';
import type { RemoteRegistry } from '../remotes/registry.js';
import { where, type ReadOnlyProjects } from './read-only.js';
import { listFingerprints, matching } from './usage.js';

const images = (count: number) => (count === 1 ? '1 image' : `${count} images`);
const short = (fingerprint: string) => fingerprint.slice(0, 12);

export function deleteImages(
  remotes: RemoteRegistry,
  operations: Operations,
  readOnly: ReadOnlyProjects,
  input: CallInput<'images.delete'>,
): OperationSummary {
  const { remote, project } = input;
  const connection = remotes.lxd(remote);
  const requested = [...new Set(input.fingerprints)];
  const place = where(remote, project);
  return operations.start(
    {
      kind: 'delete',
      title: `Delete ${images(requested.length)} from ${place}`,
      command: deleteCommand({ ...input, fingerprints: requested }),
    },
    ({ signal, progress, setCancellable }) =>
      connection.withClient(async (client) => {
        // A short fingerprint that matches no image (or several) is sent as it is: LXD decides.
        const known = requested.every((fingerprint) => fingerprint.length === 64)
          ? []
          : await listFingerprints(client, project);
        const fingerprints = [
          ...new Set(
            requested.map((fingerprint) => {
              const matches = fingerprint.length === 64 ? [] : matching(known, fingerprint);
              return matches.length === 1 ? (matches[0] ?? fingerprint) : fingerprint;
            }),
          ),
        ];
        const total = fingerprints.length;
        const deleted: string[] = [];
        const gone: string[] = [];
        const failed: { fingerprint: string; error: HangarError }[] = [];
        const summary = () => {
          const parts = [`Deleted ${images(deleted.length)}`];
          if (gone.length > 0)
            parts.push(
              `${images(gone.length)} ${gone.length === 1 ? 'was' : 'were'} already gone, deleted meanwhile by someone else (${gone.map(short).join(', ')})`,
            );
          return `${parts.join('; ')}.`;
        };
        const result = (): OperationResult => ({
          remote,
          project: project ?? 'default',
          ...(gone.length === 0 ? {} : { skipped: [...gone] }),
          message: summary(),
        });

        for (const [index, fingerprint] of fingerprints.entries()) {
          if (signal.aborted)
            throw new OperationError(
              'cancelled',
              deleted.length === 0
                ? 'Cancelled; nothing was deleted.'
                : `Cancelled after deleting ${images(deleted.length)} of ${total}; the others are still there.`,
              result(),
            );
          // LXD cannot cancel an image deletion: a cancel during the last one would mean nothing.
          if (index === total - 1) setCancellable(false);
          progress({
            stage: `Deleting ${index + 1} of ${total}`,
            percent: Math.round((index / total) * 100),
          });
          try {
            const response = await client.request(`/1.0/images/${fingerprint}`, {
              method: 'DELETE',
              project,
            });
            if (response.type === 'async')
              await client.waitForOperation(response.operation, { project });
            deleted.push(fingerprint);
            readOnly.succeeded(remote, project);
          } catch (error) {
            const failure = HangarError.from(error);
            if (failure.code === 'lxd-unreachable') throw failure;
            if (failure.code === 'not-found') gone.push(fingerprint);
            else {
              failed.push({ fingerprint, error: failure });
              readOnly.failed(remote, project, failure);
            }
          }
        }

        const [first] = failed;
        if (first !== undefined)
          throw new OperationError(
            first.error.code,
            `Could not delete ${images(failed.length)} of ${total} from ${place}: ${failed
              .map(({ fingerprint, error }) => `${short(fingerprint)} (${error.message})`)
              .join('; ')}. ${summary()}`,
            result(),
          );
        progress({ stage: summary(), percent: 100 });
        return result();
      }),
  );
}
