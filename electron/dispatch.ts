import { calls, isCallName, type Handlers } from '../shared/contract.js';
import { HangarError, type Envelope } from '../shared/errors.js';

/**
 * Runs one call from any transport: the name must be in the contract and the
 * input must pass the call's schema, whatever the renderer claims to be.
 */
export async function dispatch(
  handlers: Handlers,
  name: unknown,
  input: unknown,
): Promise<Envelope<unknown>> {
  try {
    if (typeof name !== 'string' || !isCallName(name)) {
      throw new HangarError('unknown-call', `Unknown call ${JSON.stringify(name)}.`);
    }
    const parsed = calls[name].input.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`)
        .join('; ');
      throw new HangarError('invalid-input', `Invalid input for ${name}: ${issues}.`);
    }
    // The schema narrowed `parsed.data` to this call's input type.
    const handler = handlers[name] as (input: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(parsed.data) };
  } catch (error) {
    return { ok: false, error: HangarError.from(error).toData() };
  }
}
