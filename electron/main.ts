/** Electron entry: thin glue around the services in createHangar. */
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultDataDir } from './data-dir.js';
import { createHangar } from './hangar.js';
import { registerIpc } from './ipc.js';
import { safeStorageCodec } from './secrets.js';
import { lockDownContents, lockDownSession } from './security.js';
import { mainWindowOptions } from './window-options.js';

app.enableSandbox();

// No page may navigate, open windows or embed webviews: the app is one local page.
app.on('web-contents-created', (_event, contents) => lockDownContents(contents));

async function start(): Promise<void> {
  await app.whenReady();
  const window = new BrowserWindow(mainWindowOptions(join(__dirname, 'preload.cjs')));
  lockDownSession(
    session.defaultSession,
    (contents) => contents !== null && contents.id === window.webContents.id,
  );
  const hangar = await createHangar({
    env: process.env,
    dataDir: defaultDataDir(process.env),
    secrets: safeStorageCodec(),
    chooseFolder: async ({ title, defaultPath }) => {
      const chosen = await dialog.showOpenDialog(window, {
        title,
        ...(defaultPath === undefined ? {} : { defaultPath }),
        properties: ['openDirectory', 'createDirectory'],
      });
      return chosen.canceled ? null : (chosen.filePaths[0] ?? null);
    },
  });
  const indexFile = join(__dirname, '../renderer/index.html');
  const unregister = registerIpc(ipcMain, hangar, window, pathToFileURL(indexFile).href);
  window.on('closed', unregister);
  app.on('window-all-closed', () => {
    void hangar.close().finally(() => app.quit());
  });
  await window.loadFile(indexFile);
}

start().catch((error: unknown) => {
  console.error('Hangar failed to start:', error);
  app.exit(1);
});
