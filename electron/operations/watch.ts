/**
 * Follows an operation through the contract, as a caller without the
 * renderer's event stream does (tests, benchmarks): it reads
 * `operations.list` until the operation reaches the state it waits for.
 */
import type { Handlers, OperationSummary } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { dispatch } from '../dispatch.js';

const ended = (operation: OperationSummary) => operation.state !== 'running';

/**
 * The operation's summary once `reached` holds (by default: once it ended).
 * Rejects after `timeoutMs`, or if the operation ends without reaching it.
 */
export async function watchOperation(
  handlers: Handlers,
  id: string,
  { reached = ended, timeoutMs = 120_000, intervalMs = 10 } = {},
): Promise<OperationSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = await dispatch(handlers, 'operations.list', {});
    if (!listed.ok) throw HangarError.fromData(listed.error);
    const current = (listed.value as OperationSummary[]).find((operation) => operation.id === id);
    if (current === undefined) throw new Error(`No operation ${id}.`);
    if (reached(current)) return current;
    if (ended(current))
      throw new Error(
        `${current.title} ended (${current.state}${current.error === undefined ? '' : `: ${current.error.message}`}) before the awaited state.`,
      );
    if (Date.now() > deadline)
      throw new Error(`${current.title} did not reach the awaited state in ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
