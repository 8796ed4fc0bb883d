/**
 * The one contract between the main process and the renderer: every call
 * (name, input schema, result type) and every event (name, payload type).
 * The preload (IPC), the web bridge (HTTP + WebSocket) and the renderer's
 * client are all derived from these two maps.
 */
import { z } from 'zod';

export { buildFacade, callNames, eventNames, isCallName, isEventName } from './contract-names.js';
export type { CallName, EventName } from './contract-names.js';
import type { CallName, EventName } from './contract-names.js';
import type { Envelope, HangarErrorData } from './errors.js';
import type { AliasEntry } from './images/changes.js';
import type { LxdImage } from './lxd.js';

const remoteName = z.string().min(1).max(128);
const projectName = z.string().min(1).max(63);
/** A full fingerprint or a unique prefix of one, as `lxc` accepts. */
const fingerprint = z.string().regex(/^[0-9a-f]{1,64}$/, 'a fingerprint is hexadecimal');

export interface RemoteSummary {
  name: string;
  protocol: 'lxd' | 'simplestreams';
  /** What `lxc remote list` shows as URL: `unix:///path` for the local socket. */
  addr: string;
  isDefault: boolean;
}

export type RemoteStatus =
  | { state: 'connecting' }
  | {
      state: 'online';
      serverName: string;
      serverVersion: string;
      auth: 'trusted' | 'untrusted';
      /** Where the connection goes: the socket path or the URL. */
      endpoint: string;
    }
  | {
      state: 'unreachable';
      error: HangarErrorData;
      /** Every socket path or URL that was tried, in order. */
      tried: string[];
      /** How the user can fix it. */
      hint: string;
    };

/** Pairs an input schema with a result type that exists only at compile time. */
const returns =
  // `Result` is a phantom: it only carries the call's result type into `calls`.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  <Result>() =>
    <Input extends z.ZodType>(input: Input) => ({ input, result: undefined as unknown as Result });

const onRemote = z.object({ remote: remoteName }).strict();
const inProject = z.object({ remote: remoteName, project: projectName.optional() }).strict();

export const calls = {
  'remotes.list': returns<RemoteSummary[]>()(z.object({}).strict()),
  'remotes.status': returns<RemoteStatus>()(onRemote),
  'projects.list': returns<string[]>()(onRemote),
  'images.list': returns<LxdImage[]>()(inProject),
  'images.get': returns<LxdImage>()(inProject.extend({ fingerprint })),
  'images.aliases': returns<AliasEntry[]>()(inProject),
} as const satisfies Record<CallName, { input: z.ZodType; result: unknown }>;

/** Every event name in contract-names.ts must have its payload here. */
export interface Events extends Record<EventName, unknown> {
  'remote.status': { remote: string; status: RemoteStatus };
  /** An image of a remote changed: LXD's lifecycle action, and the image when it names one. */
  'images.changed': { remote: string; project: string; action: string; fingerprint?: string };
}

export type CallInput<N extends CallName> = z.infer<(typeof calls)[N]['input']>;
export type CallResult<N extends CallName> = (typeof calls)[N]['result'];

/** What the main process implements: one async function per call. */
export type Handlers = { [N in CallName]: (input: CallInput<N>) => Promise<CallResult<N>> };

type Namespace<N> = N extends `${infer A}.${string}` ? A : never;
type Method<N, A extends string> = N extends `${A}.${infer M}` ? M : never;
type Named<A extends string, M extends string> = Extract<`${A}.${M}`, CallName>;

/** `images.list` becomes `api.images.list(input)`; `wrap` picks what each method returns. */
type Facade<Wrap extends 'envelope' | 'value'> = {
  [A in Namespace<CallName>]: {
    [M in Method<CallName, A>]: (
      input: CallInput<Named<A, M>>,
    ) => Promise<
      Wrap extends 'envelope' ? Envelope<CallResult<Named<A, M>>> : CallResult<Named<A, M>>
    >;
  };
};

export type Unsubscribe = () => void;
/** One event as it travels: `if (message.event === 'x')` narrows the payload. */
export type EventMessage = { [E in EventName]: { event: E; payload: Events[E] } }[EventName];
export type EventListener = (message: EventMessage) => void;

/**
 * What a transport gives the renderer: the preload's `window.hangar`, or the
 * web bridge client. Results are envelopes so errors survive any transport.
 */
export type HangarTransport = Facade<'envelope'> & {
  subscribe: (listener: EventListener) => Unsubscribe;
};

/** What renderer code uses: results as values, errors thrown as HangarError. */
export type HangarApi = Facade<'value'> & {
  subscribe: (listener: EventListener) => Unsubscribe;
};
