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
import { PROPERTY_KEY_MAX, PROPERTY_VALUE_MAX } from './images/document.js';
import type { LxdImage } from './lxd.js';
import { imageSortColumns, type ImageView } from './images/view.js';
import { LIST_CHUNK_MAX, type ListChunk } from './images/listed.js';
import { REMOTE_NAME_PATTERN, REMOTE_NAME_RULE } from './remote-name.js';
import { publishCompressions } from './instances/publish.js';
import type { ShareInfo } from './sharing.js';

const remoteName = z.string().min(1).max(128);
const projectName = z.string().min(1).max(63);
/** A full fingerprint or a unique prefix of one, as `lxc` accepts. */
const fingerprint = z.string().regex(/^[0-9a-f]{1,64}$/, 'a fingerprint is hexadecimal');

export type RemoteProtocol = 'lxd' | 'simplestreams';

/** A remote as `lxc remote list` shows it. Credentials never appear here. */
export interface RemoteSummary {
  name: string;
  protocol: RemoteProtocol;
  /** What `lxc remote list` shows as URL: `unix:///path` for the local socket. */
  addr: string;
  /** `file access` (the unix socket), `tls` (a client certificate) or `none` (public). */
  authType: 'file access' | 'tls' | 'none';
  public: boolean;
  /** Built in, like lxc's static remotes: cannot be removed or renamed. */
  static: boolean;
  isDefault: boolean;
}

/** What a server showed before it is trusted, for the user to confirm. */
export interface ServerProbe {
  /** The normalized address: https://host:port. */
  url: string;
  certificate: { fingerprint: string; subject: string; expiresAt: string };
  auth: 'trusted' | 'untrusted';
  serverName: string;
  serverVersion: string;
  /** The name a trust token was issued for, when a token was given. */
  tokenClientName?: string;
}

/** The `lxc` client's remotes Hangar can import on first run. */
export interface LxcImportOffer {
  configDir: string;
  remotes: {
    name: string;
    addr: string;
    protocol: RemoteProtocol;
    public: boolean;
    /** Why it cannot be imported as is (a Hangar remote has that name…). */
    conflict?: string;
  }[];
  /** lxc's client certificate would become Hangar's, so its trusted remotes stay trusted. */
  hasClientCertificate: boolean;
}

export interface AppInfo {
  dataDir: string;
  /** Where exports go unless the user picks another folder (XDG download dir or home). */
  exportDir: string;
  /** How the client key is kept: encrypted by the OS keyring, or a 0600 file like lxc's. */
  keyStorage: 'encrypted' | 'plaintext';
  keyStorageNotice?: string;
  /** The desktop app has a native folder picker (app.chooseFolder); web mode does not. */
  canChooseFolder: boolean;
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
      /** Simplestreams: when the catalog shown was fetched, and why it is not fresh. */
      catalog?: { fetchedAt: string; offlineError?: HangarErrorData };
    }
  | {
      state: 'unreachable';
      error: HangarErrorData;
      /** Every socket path or URL that was tried, in order. */
      tried: string[];
      /** How the user can fix it. */
      hint: string;
      /** The server presents another certificate than the one pinned. */
      certificate?: { pinned: string; presented: string };
    };

export type OperationKind =
  'copy' | 'import' | 'export' | 'launch' | 'delete' | 'refresh' | 'publish' | 'build';

/** What build.check found: the metadata.yaml it would write, and why it would not pack (nothing when it would). */
export interface BuildCheck {
  yaml: string;
  problems: string[];
}

/** An instance as the Instances view lists it (`lxc list` plus its base image and snapshots). */
export interface InstanceSummary {
  name: string;
  type: 'container' | 'virtual-machine';
  /** LXD's status: Running, Stopped, Frozen, Error… */
  status: string;
  ephemeral: boolean;
  description: string;
  /** `volatile.base_image`: the image it was created from (null when LXD did not record one). */
  baseImage: string | null;
  snapshots: { name: string; created_at: string }[];
  created_at: string;
  /** The instance's own config (not expanded from profiles), for key=value filters. */
  config: Record<string, string>;
}

/** An image with the ETag LXD gave it: an edit sends it back (If-Match). */
export interface ImageForEdit {
  image: LxdImage;
  etag: string;
}

/** What the user may do with the images of a remote and project, and why not. */
export interface ImageAccess {
  /** Edit, alias, delete, refresh, import. */
  editable: boolean;
  /** Why not, for people: "ubuntu is a simplestreams image server: its images are read-only." */
  reason?: string;
  /** `images.remote_cache_expiry` in days (the project's, else the server's; 10 by default); unknown when untrusted. */
  cacheExpiryDays?: number;
}

/** The instances created from an image (`volatile.base_image`): they keep working when it goes. */
export interface ImageUsage {
  fingerprint: string;
  instances: { name: string; project: string }[];
}

/** Images whose source (update_source) now has another image under the same alias. */
export interface ImageUpdates {
  updates: { fingerprint: string; latest: string }[];
  /** Images whose source could not be asked, and why (offline, not trusted…). */
  unknown: { fingerprint: string; reason: string }[];
  checkedAt: string;
}

/** One long action, as the operations panel shows it. Lives in the main process for the session. */
export interface OperationSummary {
  id: string;
  kind: OperationKind;
  /** What is being done, for people: "Copy second:fixture/split to local". */
  title: string;
  /** The same action as an lxc command line, to copy into a script. */
  command: string;
  state: 'running' | 'succeeded' | 'failed' | 'cancelled';
  startedAt: string;
  endedAt?: string;
  /** The current stage ("Uploading", "Downloading rootfs"), with bytes and percent when known. */
  progress?: { stage: string; percent?: number; processed?: number; total?: number };
  mayCancel: boolean;
  error?: HangarErrorData;
  /** What it made: an image (remote, project, fingerprint), exported files or an instance. */
  result?: {
    remote: string;
    project: string;
    fingerprint?: string;
    files?: string[];
    instance?: string;
    /** Images it found already gone (another client deleted them meanwhile): not a failure. */
    skipped?: string[];
    /** What it came to, for people, when that is not obvious: "already up to date". */
    message?: string;
  };
}

/** Pairs an input schema with a result type that exists only at compile time. */
const returns =
  // `Result` is a phantom: it only carries the call's result type into `calls`.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  <Result>() =>
    <Input extends z.ZodType>(input: Input) => ({ input, result: undefined as unknown as Result });

/** Like lxc's, minus what would not survive as a file name (servercerts/<name>.crt). */
const newRemoteName = z.string().regex(REMOTE_NAME_PATTERN, REMOTE_NAME_RULE);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a certificate fingerprint is 64 hex digits');
const address = z.string().trim().min(1, 'an address is required').max(2048);
const secret = z.string().trim().min(1).max(8192);
const onRemote = z.object({ remote: remoteName }).strict();
const addRemote = z.discriminatedUnion('protocol', [
  z
    .object({
      protocol: z.literal('lxd'),
      name: newRemoteName,
      /** Optional with a token: the token carries the addresses. */
      addr: address.optional(),
      /** The certificate fingerprint the user confirmed (trust on first use). */
      acceptedFingerprint: sha256,
      auth: z.discriminatedUnion('method', [
        z.object({ method: z.literal('token'), token: secret }).strict(),
        z.object({ method: z.literal('password'), password: secret }).strict(),
        /** `lxc remote add --public`: no credentials, public images only. */
        z.object({ method: z.literal('public') }).strict(),
      ]),
    })
    .strict(),
  z.object({ protocol: z.literal('simplestreams'), name: newRemoteName, addr: address }).strict(),
]);
const inProject = z.object({ remote: remoteName, project: projectName.optional() }).strict();
/** Alias names as lxc passes them: one word, no control characters, not starting with "/". */
const aliasName = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (name) =>
      !name.startsWith('/') &&
      !/\s/.test(name) &&
      !Array.from({ length: name.length }, (_, i) => name.charCodeAt(i)).some(
        (code) => code < 32 || code === 127,
      ),
    { message: 'an alias has no spaces or control characters and does not start with "/"' },
  );
const aliasList = z.array(aliasName).max(64);
/** An image on a remote: an alias, or a full or unique short fingerprint. */
const imageRef = z.string().trim().min(1).max(255);
const absolutePath = z
  .string()
  .min(2)
  .max(4096)
  .refine((path) => path.startsWith('/'), { message: 'a path must be absolute' });
/**
 * Paths on this machine (the desktop app's own dialogs and drops), or uploads staged
 * over the web bridge; the bridge refuses paths (electron/dispatch.ts).
 */
const importFile = z.union([
  z.object({ path: absolutePath }).strict(),
  z.object({ upload: z.string().regex(/^[0-9a-f-]{36}$/) }).strict(),
]);
const propertyMap = z.record(z.string().min(1).max(255), z.string().max(4096));
/** metadata.yaml of an image built from a folder (times are Unix seconds). */
const buildMetadata = z
  .object({
    architecture: z.string().min(1).max(64),
    creationDate: z.number().int().positive(),
    expiryDate: z.number().int().positive().optional(),
    properties: propertyMap,
  })
  .strict();
const buildTemplate = z
  .object({
    /** Where the file goes in the instance (absolute). */
    path: z.string().min(1).max(4096),
    when: z.array(z.enum(['create', 'copy', 'start', 'rename'])).max(4),
    createOnly: z.boolean(),
    /** The pongo2 template text. */
    template: z.string().max(1024 * 1024),
    properties: propertyMap,
  })
  .strict();
const buildInput = z
  .object({
    /** The root filesystem folder on this machine (desktop app only). */
    rootfs: absolutePath,
    metadata: buildMetadata,
    templates: z.array(buildTemplate).max(64),
  })
  .strict();
/** `lxc image edit`'s document (LXD's ImagePut); the renderer checks keys against the server's first. */
const imageDocument = z
  .object({
    auto_update: z.boolean(),
    properties: z.record(
      z.string().max(PROPERTY_KEY_MAX),
      z
        .string()
        .max(PROPERTY_VALUE_MAX, `a property value is at most ${PROPERTY_VALUE_MAX} characters`),
    ),
    public: z.boolean(),
    expires_at: z
      .string()
      .regex(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/,
        'an RFC 3339 time',
      ),
    profiles: z.array(z.string().min(1).max(63)).max(64),
  })
  .strict();
const fingerprints = z
  .array(fingerprint)
  .min(1, 'choose at least one image')
  .max(1000, 'at most 1000 images at once');
const aliasDescription = z.string().max(1024);
const instanceName = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9-]{0,62}$/,
    'an instance name is letters, digits and "-" (at most 63) and starts with a letter',
  )
  .refine((name) => !name.endsWith('-'), { message: 'an instance name does not end with "-"' });

const viewFilter = z.string().max(4096, 'a filter is at most 4096 characters');
const viewSort = z.object({ column: z.enum(imageSortColumns), desc: z.boolean() }).strict();
/** Windows are what a screen shows: a few hundred rows at most. */
const viewQuery = inProject.extend({
  filter: viewFilter,
  sort: viewSort,
  offset: z.number().int().min(0),
  limit: z.number().int().min(0).max(1000),
  find: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
const fullFingerprints = z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(1000);

export const calls = {
  'remotes.list': returns<RemoteSummary[]>()(z.object({}).strict()),
  'remotes.status': returns<RemoteStatus>()(onRemote),
  'remotes.probe': returns<ServerProbe>()(
    z.union([z.object({ addr: address }).strict(), z.object({ token: secret }).strict()]),
  ),
  'remotes.add': returns<RemoteSummary>()(addRemote),
  'remotes.remove': returns<null>()(onRemote),
  'remotes.rename': returns<RemoteSummary>()(onRemote.extend({ newName: newRemoteName })),
  'remotes.setDefault': returns<null>()(onRemote),
  /** Pins the certificate a remote now presents, after the user compared fingerprints. */
  'remotes.trustCertificate': returns<null>()(onRemote.extend({ fingerprint: sha256 })),
  /** The lxc remotes to offer on first run; null once answered or when there is no lxc config. */
  'remotes.lxcOffer': returns<LxcImportOffer | null>()(z.object({}).strict()),
  'remotes.importLxc': returns<RemoteSummary[]>()(
    z.object({ names: z.array(remoteName).max(1000) }).strict(),
  ),
  'remotes.dismissLxcImport': returns<null>()(z.object({}).strict()),
  /** How others use this server's public images: lxc remote add, core.https_address. */
  'remotes.shareInfo': returns<ShareInfo>()(onRemote),
  'app.info': returns<AppInfo>()(z.object({}).strict()),
  /** The OS's folder picker (desktop app only); null when the user closed it. */
  'app.chooseFolder': returns<string | null>()(
    z
      .object({ title: z.string().min(1).max(200), defaultPath: z.string().max(4096).optional() })
      .strict(),
  ),
  'projects.list': returns<string[]>()(onRemote),
  /** The server's whole list (scripts and tests); windows use images.load, images.view and images.rows. */
  'images.list': returns<LxdImage[]>()(inProject),
  /**
   * Asks the server for the list, holds it, and answers a window of it. A list LXD's events have
   * kept current since it was read is answered as held, unless `refresh` (the Refresh button).
   */
  'images.load': returns<ImageView>()(viewQuery.extend({ refresh: z.boolean().optional() })),
  /** A window of the list Hangar holds (or kept on disk) without asking the server: painted at once. */
  'images.view': returns<ImageView>()(viewQuery),
  /** A chunk of the held list's compact copy: a window filters and sorts its own copy. */
  'images.rows': returns<ListChunk>()(
    inProject.extend({
      offset: z.number().int().min(0),
      limit: z.number().int().min(1).max(LIST_CHUNK_MAX),
    }),
  ),
  /** The fingerprints of matches `from`..`to` (inclusive) of a filter and sort: Ctrl+A, Shift+click. */
  'images.select': returns<string[]>()(
    inProject.extend({
      filter: viewFilter,
      sort: viewSort,
      from: z.number().int().min(0),
      to: z.number().int().min(-1),
    }),
  ),
  /** Whole images of the held list (the info pane, Delete…); images not in it are left out. */
  'images.details': returns<LxdImage[]>()(inProject.extend({ fingerprints: fullFingerprints })),
  'images.get': returns<LxdImage>()(inProject.extend({ fingerprint })),
  'images.aliases': returns<AliasEntry[]>()(inProject),
  /** The image and its ETag, for an edit. */
  'images.document': returns<ImageForEdit>()(inProject.extend({ fingerprint })),
  /** `lxc image edit`: PUT with If-Match; a stale ETag fails with code "outdated". */
  'images.update': returns<ImageForEdit>()(
    inProject.extend({ fingerprint, etag: z.string().max(256), document: imageDocument }),
  ),
  'images.access': returns<ImageAccess>()(inProject),
  /** `lxc image alias create` (a name taken fails with code "conflict", nothing changed). */
  'images.aliasCreate': returns<null>()(
    inProject.extend({ name: aliasName, target: fingerprint, description: aliasDescription }),
  ),
  /** Change an alias's description or point it at another image (one request). */
  'images.aliasUpdate': returns<null>()(
    inProject.extend({ name: aliasName, target: fingerprint, description: aliasDescription }),
  ),
  'images.aliasRename': returns<null>()(inProject.extend({ name: aliasName, newName: aliasName })),
  'images.aliasDelete': returns<null>()(inProject.extend({ name: aliasName })),
  /** The instances created from each image, in every project. */
  'images.usage': returns<ImageUsage[]>()(inProject.extend({ fingerprints })),
  /** `lxc image delete`: one operation for all of them. */
  'images.delete': returns<OperationSummary>()(inProject.extend({ fingerprints })),
  /** `lxc image refresh`. */
  'images.refresh': returns<OperationSummary>()(inProject.extend({ fingerprint })),
  /** Asks each image's source whether its alias points at a newer image now. */
  'images.checkUpdates': returns<ImageUpdates>()(inProject),
  /** `lxc image copy`: the target LXD pulls the image; returns the operation at once. */
  'images.copy': returns<OperationSummary>()(
    z
      .object({
        source: inProject.extend({ image: imageRef }),
        target: inProject,
        aliases: aliasList,
        copyAliases: z.boolean(),
        autoUpdate: z.boolean(),
        public: z.boolean(),
      })
      .strict(),
  ),
  /** `lxc image export`: unified or split, as LXD stores it, into a folder. */
  'images.export': returns<OperationSummary>()(
    inProject.extend({ fingerprint, directory: absolutePath }),
  ),
  /** `lxc image import`: one file (unified) or two (split: the metadata is told by content, else size). */
  'images.importFiles': returns<OperationSummary>()(
    inProject.extend({
      /** Paths on this machine (Electron), or uploads staged over the web bridge. */
      files: z
        .array(importFile)
        .min(1, 'choose one file (unified) or two (split)')
        .max(2, 'an image is one file (unified) or two (split)'),
      aliases: aliasList,
      public: z.boolean(),
      properties: propertyMap,
    }),
  ),
  /** Writes the images as a static simplestreams tree into a folder (new versions only). */
  'images.exportSimplestreams': returns<OperationSummary>()(
    inProject.extend({ fingerprints, directory: absolutePath }),
  ),
  /** `lxc image import <url>`: LXD fetches it (LXD-Image-URL / LXD-Image-Hash). */
  'images.importUrl': returns<OperationSummary>()(
    inProject.extend({
      url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(4096),
      aliases: aliasList,
      public: z.boolean(),
    }),
  ),
  /** `lxc launch` (or `lxc init` when start is false). */
  'instances.launch': returns<OperationSummary>()(
    z
      .object({
        source: inProject.extend({ image: imageRef }),
        target: inProject,
        name: instanceName.optional(),
        vm: z.boolean(),
        ephemeral: z.boolean(),
        profiles: z.array(z.string().min(1).max(63)).max(32).optional(),
        start: z.boolean(),
      })
      .strict(),
  ),
  /** `lxc list`: the instances of a project, with their base image and snapshots. */
  'instances.list': returns<InstanceSummary[]>()(
    z.object({ remote: remoteName, project: projectName.optional() }).strict(),
  ),
  /** The architectures for a built image's metadata.yaml: the server's first, then every name LXD knows. */
  'build.architectures': returns<string[]>()(onRemote),
  /** The metadata.yaml a build would write, and every problem that stops it (the folder is walked when given). */
  'build.check': returns<BuildCheck>()(
    buildInput.extend({
      rootfs: absolutePath.optional(),
      /** A rootfs tarball packs only as split (it is the rootfs file as it is). */
      layout: z.enum(['unified', 'split']).optional(),
    }),
  ),
  /** Packs a folder as an image (tar, compressed) into a folder, and/or imports it into a remote's project. */
  'build.pack': returns<OperationSummary>()(
    buildInput
      .extend({
        layout: z.enum(['unified', 'split']),
        compression: z.enum(['gzip', 'xz', 'zstd', 'none']),
        directory: absolutePath.optional(),
        importTo: inProject.extend({ aliases: aliasList, public: z.boolean() }).optional(),
      })
      .refine((input) => input.directory !== undefined || input.importTo !== undefined, {
        message: 'choose an output folder or a remote to import into',
      }),
  ),
  /** `lxc publish`: an instance or a snapshot as an image, on any LXD remote and project. */
  'instances.publish': returns<OperationSummary>()(
    z
      .object({
        source: z
          .object({
            remote: remoteName,
            project: projectName.optional(),
            instance: instanceName,
            /** Publish this snapshot of the instance instead of the instance. */
            snapshot: z
              .string()
              .min(1)
              .max(255)
              .refine((name) => !name.includes('/'), { message: 'a snapshot name has no "/"' })
              .optional(),
          })
          .strict(),
        target: inProject,
        aliases: aliasList,
        public: z.boolean(),
        properties: propertyMap,
        /** RFC 3339; none: the image never expires. */
        expiresAt: z
          .string()
          .regex(
            /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/,
            'an RFC 3339 time',
          )
          .optional(),
        /** None: the server's images.compression_algorithm (gzip unless set). */
        compression: z.enum(publishCompressions).optional(),
        /** A running instance is stopped for the publish and started again (`lxc publish --force`). */
        force: z.boolean(),
      })
      .strict(),
  ),
  /** This session's operations, running first, newest first. */
  'operations.list': returns<OperationSummary[]>()(z.object({}).strict()),
  'operations.cancel': returns<null>()(z.object({ id: z.string().min(1).max(64) }).strict()),
} as const satisfies Record<CallName, { input: z.ZodType; result: unknown }>;

/** Every event name in contract-names.ts must have its payload here. */
export interface Events extends Record<EventName, unknown> {
  'remote.status': { remote: string; status: RemoteStatus };
  /** Remotes were added, removed, renamed or the default changed. */
  'remotes.changed': { remotes: RemoteSummary[] };
  /** An image of a remote changed: LXD's lifecycle action, and the image when it names one. */
  'images.changed': { remote: string; project: string; action: string; fingerprint?: string };
  /** A held list changed (read again, or an event applied): windows showing it ask again. */
  'images.listChanged': { remote: string; project: string; version: number };
  /** An operation started, progressed or ended. */
  'operations.changed': { operation: OperationSummary };
}

/** A file for images.importFiles: a path (the desktop app), or an upload staged over the web bridge. */
export type ImportFileRef = z.infer<typeof importFile>;

/**
 * Web mode's byte streams: not JSON calls (their bodies are files), but the
 * bridge checks their metadata against these schemas with the same
 * validation as every call (electron/dispatch.ts's `parseInput`).
 */
export const streams = {
  /**
   * POST /api/upload with this JSON reserves room for one file (its size is checked
   * against the caps and the free disk space before a byte is sent); its bytes then
   * go to PUT /api/upload/<id>.
   */
  upload: returns<{ upload: string }>()(
    z
      .object({
        name: z
          .string()
          .min(1)
          .max(255)
          .refine(
            (name) =>
              !name.includes('/') &&
              !name.includes('\\') &&
              !Array.from(name).some((char) => char.charCodeAt(0) < 32 || char === '\u007f'),
            {
              message: 'a file name has no slashes or control characters',
            },
          ),
        size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      })
      .strict(),
  ),
  /** GET /api/export?remote=&project=&fingerprint=: `lxc image export` as a browser download. */
  'images.exportDownload': returns<null>()(inProject.extend({ fingerprint })),
} as const;
export type StreamName = keyof typeof streams;
export type StreamInput<N extends StreamName> = z.infer<(typeof streams)[N]['input']>;

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

/** What Electron's preload exposes as `window.hangar`: the calls, the events, a dropped file's path. */
export type PreloadApi = Facade<'envelope'> & {
  subscribe: (listener: EventListener) => Unsubscribe;
  /** webUtils.getPathForFile: '' for a file that is not on disk. */
  pathForFile?: (file: File) => string;
};

/** Which transport the page uses; the main process enforces what each may do. */
export type TransportKind = 'ipc' | 'web';

/**
 * What a transport gives the renderer: Electron's preload (IPC), or the web
 * bridge client. Results are envelopes so errors survive any transport.
 */
export type HangarTransport = Facade<'envelope'> & {
  kind: TransportKind;
  subscribe: (listener: EventListener) => Unsubscribe;
  /**
   * Called when events may have been missed: the web page's socket was lost and is back, so what
   * the window shows is read again. IPC loses no events: never called there.
   */
  onResync: (callback: () => void) => Unsubscribe;
  /** A file for images.importFiles: its path (IPC), or its bytes sent to the bridge (web). */
  upload: (file: File) => Promise<Envelope<ImportFileRef>>;
  /** Web mode: the browser downloads the export (IPC exports into a folder with images.export). */
  exportDownload: (input: StreamInput<'images.exportDownload'>) => Promise<Envelope<null>>;
};

/** What renderer code uses: results as values, errors thrown as HangarError. */
export type HangarApi = Facade<'value'> & {
  kind: TransportKind;
  subscribe: (listener: EventListener) => Unsubscribe;
  onResync: (callback: () => void) => Unsubscribe;
  upload: (file: File) => Promise<ImportFileRef>;
  exportDownload: (input: StreamInput<'images.exportDownload'>) => Promise<null>;
};
