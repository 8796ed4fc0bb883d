/**
 * The desktop app's transport: Electron's preload (`window.hangar`) carries
 * the calls and events over IPC. A dropped or picked file goes as its path
 * (the main process reads it; its bytes never cross IPC), and exports go
 * into a folder chosen in Electron's own dialog, so there are no downloads.
 */
import type { HangarTransport, PreloadApi } from '../../shared/contract';

export function createIpcTransport(preload: PreloadApi): HangarTransport {
  return {
    ...preload,
    kind: 'ipc',
    // Electron's IPC delivers every event while the window lives: nothing to read again.
    onResync: () => () => undefined,
    upload: (file) => {
      const path = preload.pathForFile?.(file) ?? '';
      return Promise.resolve(
        path === ''
          ? {
              ok: false,
              error: {
                code: 'invalid-input',
                message: `${file.name} is not a file on this machine: save it to disk, then drop it again.`,
              },
            }
          : { ok: true, value: { path } },
      );
    },
    exportDownload: () =>
      Promise.resolve({
        ok: false,
        error: {
          code: 'invalid-input',
          message: 'The desktop app exports into a folder: choose one in the Export dialog.',
        },
      }),
  };
}
