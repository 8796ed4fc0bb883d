/**
 * Hangar's main-process services, wired once. Electron's IPC and the web
 * bridge are two transports over the same handlers and event hub.
 */
import { join } from 'node:path';
import type { Handlers, OperationSummary, StreamInput } from '../shared/contract.js';
import { EventHub } from './event-hub.js';
import type { LxdClientLimits } from './lxd/client.js';
import { ImageLists } from './images/lists.js';
import { ListCache } from './images/list-cache.js';
import { imageHandlers } from './images/service.js';
import { downloadExport, type DownloadSink } from './images/export.js';
import { buildHandlers } from './build/build.js';
import { StagedUploads, uploadLimitsFromEnv } from './images/staged-uploads.js';
import { updateHandlers } from './images/updates-service.js';
import { instanceHandlers } from './instances/service.js';
import { Operations } from './operations/registry.js';
import { operationHandlers } from './operations/service.js';
import type { SecretCodec } from './remotes/identity.js';
import { RemoteRegistry, type FolderChooser } from './remotes/registry.js';
import { remoteHandlers } from './remotes/service.js';
import { sharingHandlers } from './streams-export/service.js';

export interface HangarOptions {
  env: NodeJS.ProcessEnv;
  /** Where remotes, pinned certificates, the client identity and caches live. */
  dataDir: string;
  /** How secrets are kept at rest (Electron's safeStorage, or plaintext 0600). */
  secrets: SecretCodec;
  /** How often an unreachable remote is retried. */
  retryMs?: number;
  /** Timeouts and answer sizes of LXD clients (tests shorten them). */
  lxdLimits?: Partial<LxdClientLimits>;
  /** Extra CA certificates (PEM) trusted for simplestreams servers. */
  extraCa?: string;
  /** The OS's folder picker (Electron's dialog); web mode has none. */
  chooseFolder?: FolderChooser;
}

export interface Hangar {
  handlers: Handlers;
  events: EventHub;
  /** Files the web bridge streams in for an import (Electron passes paths instead). */
  uploads: StagedUploads;
  /** Exports the web bridge streams to the browser as downloads (Electron exports into folders). */
  downloads: {
    exportImage: (
      input: StreamInput<'images.exportDownload'>,
      sink: DownloadSink,
    ) => OperationSummary;
  };
  close: () => Promise<void>;
}

export async function createHangar(options: HangarOptions): Promise<Hangar> {
  const events = new EventHub();
  const remotes = await RemoteRegistry.open({ ...options, hub: events });
  const operations = new Operations(events);
  const uploads = new StagedUploads(
    join(options.dataDir, 'uploads'),
    uploadLimitsFromEnv(options.env),
  );
  const updates = updateHandlers(remotes, operations);
  // Every remote's last list; a removed or renamed remote's lists go with it.
  const lists = new ListCache(join(options.dataDir, 'cache', 'lists'));
  void lists.keepOnly(remotes.list().map(({ name }) => name));
  events.subscribe((message) => {
    if (message.event === 'remotes.changed')
      void lists.keepOnly(message.payload.remotes.map(({ name }) => name));
  });
  const imageLists = new ImageLists({ remotes, hub: events, cache: lists });
  void remotes.connectAll();
  // Electron's quit and a signal handler may both close: once is enough.
  let closing: Promise<void> | undefined;
  return {
    handlers: {
      ...remoteHandlers(remotes),
      'remotes.add': async (input) => {
        const { summary, catalog } = await remotes.add(input);
        // The window shows the new catalog next, and adding it just read it: it is indexed while
        // the answer goes out and the window opens (in a later task, so the answer goes first).
        if (catalog !== undefined)
          setImmediate(() => {
            if (closing === undefined) imageLists.readAhead({ remote: summary.name }, catalog);
          });
        return summary;
      },
      ...imageHandlers(remotes, operations, uploads, imageLists),
      ...operationHandlers(remotes, operations),
      ...instanceHandlers(remotes, operations),
      ...updates.handlers,
      ...sharingHandlers(remotes, operations),
      ...buildHandlers(remotes, operations, uploads),
    },
    events,
    uploads,
    downloads: {
      exportImage: (input, sink) => downloadExport(remotes, operations, input, sink),
    },
    // Running transfers are cancelled (their partial files removed) before connections close.
    close: () =>
      (closing ??= operations
        .close()
        .then(() => uploads.close())
        .then(() => updates.close())
        .then(() => remotes.close())
        .then(() => imageLists.close())),
  };
}
