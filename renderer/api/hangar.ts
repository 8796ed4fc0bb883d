/** The renderer's one way to reach the main process. */
import type { HangarApi, HangarTransport, PreloadApi } from '../../shared/contract';
import { buildFacade } from '../../shared/contract-names';
import { HangarError, type Envelope } from '../../shared/errors';
import { createIpcTransport } from './ipc-transport';
import { createWebTransport } from './web-transport';

declare global {
  interface Window {
    /** Set by Electron's preload; absent in web mode. */
    hangar?: PreloadApi;
  }
}

function value<T>(envelope: Envelope<T>): T {
  if (!envelope.ok) throw HangarError.fromData(envelope.error);
  return envelope.value;
}

export function createApi(transport: HangarTransport): HangarApi {
  const byName = transport as unknown as Record<
    string,
    Record<string, (input: unknown) => Promise<Envelope<unknown>>>
  >;
  const facade = buildFacade(async (name, input) => {
    const [namespace = '', method = ''] = name.split('.');
    const perform = byName[namespace]?.[method];
    if (perform === undefined)
      throw new HangarError('unknown-call', `The transport has no ${name}.`);
    return value(await perform(input));
  });
  return {
    ...(facade as unknown as Omit<
      HangarApi,
      'subscribe' | 'onResync' | 'kind' | 'upload' | 'exportDownload'
    >),
    kind: transport.kind,
    subscribe: (listener) => transport.subscribe(listener),
    onResync: (callback) => transport.onResync(callback),
    upload: async (file) => value(await transport.upload(file)),
    exportDownload: async (input) => value(await transport.exportDownload(input)),
  };
}

export const api: HangarApi = createApi(
  window.hangar === undefined ? createWebTransport() : createIpcTransport(window.hangar),
);
