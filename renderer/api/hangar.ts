/** The renderer's one way to reach the main process. */
import type { HangarApi, HangarTransport } from '../../shared/contract';
import { buildFacade } from '../../shared/contract-names';
import { HangarError, type Envelope } from '../../shared/errors';
import { createWebTransport } from './web-transport';

declare global {
  interface Window {
    /** Set by Electron's preload; absent in web mode. */
    hangar?: HangarTransport & {
      /** A dropped file's path on disk (Electron's webUtils.getPathForFile). */
      pathForFile?: (file: File) => string;
    };
  }
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
    const envelope = await perform(input);
    if (!envelope.ok) throw HangarError.fromData(envelope.error);
    return envelope.value;
  });
  return {
    ...(facade as unknown as Omit<HangarApi, 'subscribe'>),
    subscribe: (listener) => transport.subscribe(listener),
  };
}

export const api: HangarApi = createApi(window.hangar ?? createWebTransport());
