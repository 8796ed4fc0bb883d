import { HangarError } from '../../shared/errors.js';
import type { LxdOperation } from '../../shared/lxd.js';
import type { LxdClient, LxdResponse } from '../lxd/client.js';
import type { OperationContext, OperationProgress } from './registry.js';

/**
 * LXD reports progress in operation metadata: LXD 5.0 as one free-text
 * `<stage>_progress` key ("rootfs: 45% (12.30MB/s)"), newer servers also as
 * `progress {stage, percent, processed}` (strings).
 */
export function progressFromLxd(
  metadata: Record<string, unknown>,
  stageNames: Record<string, string> = {},
): OperationProgress | undefined {
  const structured = metadata.progress;
  if (typeof structured === 'object' && structured !== null) {
    const { stage, percent, processed } = structured as Record<string, unknown>;
    if (typeof stage === 'string') {
      const name = stageNames[stage] ?? stage;
      const pct = Number(percent);
      const bytes = Number(processed);
      return {
        stage: name,
        ...(percent !== undefined && Number.isFinite(pct) ? { percent: pct } : {}),
        ...(processed !== undefined && Number.isFinite(bytes) && bytes > 0
          ? { processed: bytes }
          : {}),
      };
    }
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (!key.endsWith('_progress') || typeof value !== 'string') continue;
    const match = /^(?:(.+?): )?(\d+(?:\.\d+)?)%/.exec(value);
    const label = stageNames[key] ?? key.replace(/_progress$/, '').replaceAll('_', ' ');
    if (match === null) return { stage: `${label}: ${value}` };
    const part = match[1];
    return {
      stage: part === undefined ? label : `${label} (${part})`,
      percent: Number(match[2]),
    };
  }
  return undefined;
}

/**
 * Follows an LXD operation that Hangar started, as part of a Hangar
 * operation: LXD's progress and its may_cancel flow into the panel, and a
 * cancel from the panel cancels LXD's operation.
 */
export async function followLxdOperation(
  client: LxdClient,
  response: LxdResponse<unknown>,
  context: OperationContext,
  options: { project: string | undefined; what: string; stageNames?: Record<string, string> },
): Promise<LxdOperation> {
  if (response.type !== 'async')
    throw new HangarError('lxd-error', `LXD did not start ${options.what}.`);
  context.setCancellable(response.operation.may_cancel);
  return client.waitForOperation(response.operation, {
    project: options.project,
    signal: context.signal,
    onProgress: (operation) => {
      context.setCancellable(operation.may_cancel);
      const update =
        operation.metadata === null
          ? undefined
          : progressFromLxd(operation.metadata, options.stageNames);
      if (update !== undefined) context.progress(update);
    },
  });
}
