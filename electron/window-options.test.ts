import { describe, expect, it } from 'vitest';
import { mainWindowOptions } from './window-options.js';

describe('main window', () => {
  it('isolates the page: context isolation, sandbox, no Node, no webviews', () => {
    const prefs = mainWindowOptions('/app/preload.cjs').webPreferences;
    expect(prefs).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
  });
});
