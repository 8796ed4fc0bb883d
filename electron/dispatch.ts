import type { z } from 'zod';
import {
  calls,
  isCallName,
  type CallInput,
  type Handlers,
  type TransportKind,
} from '../shared/contract.js';
import { HangarError, type Envelope } from '../shared/errors.js';

/**
 * Checks one input against its schema, for calls and for the bridge's byte
 * streams alike: the same refusal, naming the field, whatever the transport.
 */
export function parseInput<S extends z.ZodType>(
  name: string,
  schema: S,
  input: unknown,
): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`)
      .join('; ');
    throw new HangarError('invalid-input', `Invalid input for ${name}: ${issues}.`);
  }
  return parsed.data;
}

/**
 * What a page in a browser may not ask for, whatever it sends: a web page
 * gets files the browser uploaded and gives downloads, never paths on this
 * machine (Hangar may run as root). Electron's paths come from its own
 * dialogs and drops.
 */
const webRefusals: { [N in keyof typeof calls]?: (input: CallInput<N>) => string | undefined } = {
  'images.importFiles': (input) =>
    input.files.some((file) => 'path' in file)
      ? 'In web mode Hangar imports only files the browser uploaded: drop them on the window or use "Choose files…". Paths on this machine are refused.'
      : undefined,
  'images.export': () =>
    'In web mode exports are downloaded by the browser (Export… → Download); Hangar does not write into folders for a web page.',
  'images.exportSimplestreams': () =>
    'In web mode Hangar does not write a simplestreams tree into a folder on this machine: use the desktop app, or export each image (Export… → Download) and lay out the tree on your web server.',
  'app.chooseFolder': () => 'Web mode has no folder picker.',
  'build.check': (input) =>
    input.rootfs === undefined
      ? undefined
      : 'In web mode Hangar does not read folders on this machine: building an image from a folder needs the desktop app.',
  'build.pack': () =>
    'In web mode Hangar does not read folders on this machine: building an image from a folder needs the desktop app.',
};

function refusal(transport: TransportKind, name: keyof typeof calls, input: unknown) {
  if (transport !== 'web') return undefined;
  const check = webRefusals[name] as ((input: unknown) => string | undefined) | undefined;
  return check?.(input);
}

/**
 * Runs one call from any transport: the name must be in the contract, the
 * input must pass the call's schema, whatever the renderer claims to be, and
 * the transport must be allowed to ask for it (the web bridge gets no paths).
 */
export async function dispatch(
  handlers: Handlers,
  name: unknown,
  input: unknown,
  transport: TransportKind = 'ipc',
): Promise<Envelope<unknown>> {
  try {
    if (typeof name !== 'string' || !isCallName(name)) {
      throw new HangarError('unknown-call', `Unknown call ${JSON.stringify(name)}.`);
    }
    const data: unknown = parseInput(name, calls[name].input, input);
    const refused = refusal(transport, name, data);
    if (refused !== undefined) throw new HangarError('invalid-input', refused);
    // The schema narrowed `data` to this call's input type.
    const handler = handlers[name] as (input: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(data) };
  } catch (error) {
    return { ok: false, error: HangarError.from(error).toData() };
  }
}
