/**
 * `lxc list` for the Instances view: each instance of a project with its
 * base image (`volatile.base_image`) and its snapshots.
 */
import type { CallInput, InstanceSummary } from '../../shared/contract.js';
import type { LxdClient } from '../lxd/client.js';
import type { RemoteRegistry } from '../remotes/registry.js';

interface LxdInstance {
  name: string;
  type?: string;
  status?: string;
  ephemeral?: boolean;
  description?: string;
  created_at?: string;
  config?: Record<string, string>;
}

interface LxdSnapshot {
  name: string;
  created_at?: string;
}

/** Snapshot lists are asked this many at a time. */
const PARALLEL = 8;

async function snapshotsOf(
  client: LxdClient,
  instance: string,
  project: string | undefined,
): Promise<InstanceSummary['snapshots']> {
  const snapshots = await client.get<LxdSnapshot[]>(
    `/1.0/instances/${encodeURIComponent(instance)}/snapshots`,
    { query: { recursion: '1' }, project },
  );
  return snapshots
    .map((snapshot) => ({
      // LXD names a snapshot "instance/snapshot" in this list.
      name: snapshot.name.slice(snapshot.name.indexOf('/') + 1),
      created_at: snapshot.created_at ?? '',
    }))
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
}

export async function listInstances(
  remotes: RemoteRegistry,
  { remote, project }: CallInput<'instances.list'>,
): Promise<InstanceSummary[]> {
  return remotes.lxd(remote).withClient(async (client) => {
    const instances = await client.get<LxdInstance[]>('/1.0/instances', {
      query: { recursion: '1' },
      project,
    });
    const summaries: InstanceSummary[] = [];
    for (let start = 0; start < instances.length; start += PARALLEL) {
      const batch = instances.slice(start, start + PARALLEL);
      const snapshots = await Promise.all(
        batch.map((instance) => snapshotsOf(client, instance.name, project)),
      );
      batch.forEach((instance, index) => {
        const config = instance.config ?? {};
        summaries.push({
          name: instance.name,
          type: instance.type === 'virtual-machine' ? 'virtual-machine' : 'container',
          status: instance.status ?? 'Unknown',
          ephemeral: instance.ephemeral === true,
          description: instance.description ?? '',
          baseImage: config['volatile.base_image'] ?? null,
          snapshots: snapshots[index] ?? [],
          created_at: instance.created_at ?? '',
          config,
        });
      });
    }
    return summaries.sort((a, b) => a.name.localeCompare(b.name));
  });
}
