/**
 * The lock-down main.ts applies to every WebContents and to the session,
 * driven with stand-ins; and the CSP the page is built with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IndexHtmlTransformHook, Plugin } from 'vite';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../shared/csp.js';
import viteConfig from '../vite.config.js';
import {
  lockDownContents,
  lockDownSession,
  type LockableContents,
  type LockableSession,
  type Preventable,
} from './security.js';

function contents() {
  const hooks = new Map<string, (event: Preventable) => void>();
  let openHandler: (() => { action: string }) | undefined;
  const stand: LockableContents = {
    on: (event, listener) => void hooks.set(event, listener),
    setWindowOpenHandler: (handler) => {
      openHandler = handler;
    },
  };
  lockDownContents(stand);
  const fire = (name: string) => {
    let prevented = false;
    hooks.get(name)?.({ preventDefault: () => (prevented = true) });
    return prevented;
  };
  return { hooks, fire, openWindow: () => openHandler?.() };
}

function session(isAppPage: (contents: { id: number } | null) => boolean) {
  let request: Parameters<LockableSession['setPermissionRequestHandler']>[0] | undefined;
  let check: Parameters<LockableSession['setPermissionCheckHandler']>[0] | undefined;
  lockDownSession(
    {
      setPermissionRequestHandler: (handler) => (request = handler),
      setPermissionCheckHandler: (handler) => (check = handler),
    },
    isAppPage,
  );
  return {
    request: (contents: { id: number } | null, permission: string) => {
      let granted: boolean | undefined;
      request?.(contents, permission, (answer) => (granted = answer));
      return granted;
    },
    check: (contents: { id: number } | null, permission: string) => check?.(contents, permission),
  };
}

const PERMISSIONS = [
  'media',
  'display-capture',
  'geolocation',
  'notifications',
  'midi',
  'midiSysex',
  'pointerLock',
  'keyboardLock',
  'fullscreen',
  'openExternal',
  'clipboard-read',
  'hid',
  'serial',
  'usb',
  'fileSystem',
  'window-management',
  'storage-access',
  'idle-detection',
  'unknown',
];

describe('every WebContents', () => {
  it('refuses navigation, redirects, frame navigation and webviews', () => {
    const { hooks, fire } = contents();
    for (const name of [
      'will-navigate',
      'will-frame-navigate',
      'will-redirect',
      'will-attach-webview',
    ]) {
      expect(hooks.has(name)).toBe(true);
      expect(fire(name)).toBe(true);
    }
  });

  it('opens no new window', () => {
    expect(contents().openWindow()).toEqual({ action: 'deny' });
  });
});

describe('the session', () => {
  const app = { id: 1 };
  const other = { id: 2 };
  const { request, check } = session((contents) => contents?.id === app.id);

  it.each(PERMISSIONS)('refuses %s to every page, the app’s included', (permission) => {
    for (const contents of [app, other, null]) {
      expect(request(contents, permission)).toBe(false);
      expect(check(contents, permission)).toBe(false);
    }
  });

  it('lets only the app’s page write text to the clipboard (its Copy buttons)', () => {
    expect(request(app, 'clipboard-sanitized-write')).toBe(true);
    expect(check(app, 'clipboard-sanitized-write')).toBe(true);
    expect(request(other, 'clipboard-sanitized-write')).toBe(false);
    expect(check(null, 'clipboard-sanitized-write')).toBe(false);
  });
});

describe('the Content Security Policy', () => {
  const directives = new Map(
    CONTENT_SECURITY_POLICY.split(';').map((directive) => {
      const [name = '', ...values] = directive.trim().split(/\s+/);
      return [name, values];
    }),
  );

  it('allows only the app’s own code: no eval, no inline script, no remote content', () => {
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'none'"]);
    for (const [name, values] of directives) {
      expect(values, name).not.toContain("'unsafe-eval'");
      expect(values, name).not.toContain("'wasm-unsafe-eval'");
      expect(values, name).not.toContain('*');
      expect(
        values.filter((value) => /^[a-z]+:\/\/|^https?:$/.test(value)),
        name,
      ).toEqual([]);
      // Monaco needs inline styles (see shared/csp.ts); nothing else is inline.
      if (name !== 'style-src') expect(values, name).not.toContain("'unsafe-inline'");
    }
    // No frames: frame-src and child-src fall back to default-src 'none'.
    expect(directives.has('frame-src')).toBe(false);
    expect(directives.has('child-src')).toBe(false);
  });

  it('is the first thing in the page’s <head> as the build writes it', async () => {
    const source = readFileSync(join(import.meta.dirname, '../renderer/index.html'), 'utf8');
    const plugin = (viteConfig.plugins ?? [])
      .flat()
      .find(
        (entry): entry is Plugin =>
          typeof entry === 'object' &&
          entry !== null &&
          'name' in entry &&
          entry.name === 'hangar-csp',
      );
    const transform = plugin?.transformIndexHtml as IndexHtmlTransformHook | undefined;
    expect(transform).toBeDefined();
    const built = await transform?.call({} as ThisParameterType<IndexHtmlTransformHook>, source, {
      path: '/index.html',
      filename: 'index.html',
    });
    expect(typeof built).toBe('string');
    const html = typeof built === 'string' ? built : '';
    const head = /<head>([\s\S]*?)<\/head>/.exec(html)?.[1] ?? '';
    const metas = [
      ...head.matchAll(/<meta http-equiv="Content-Security-Policy" content="([^"]*)"/g),
    ];
    expect(metas.map((match) => match[1])).toEqual([CONTENT_SECURITY_POLICY]);
    // Before any script or stylesheet in the head.
    expect(head.indexOf('Content-Security-Policy')).toBeLessThan(
      Math.min(
        ...['<script', '<link rel="stylesheet"', '<style'].map((tag) =>
          head.includes(tag) ? head.indexOf(tag) : Infinity,
        ),
      ),
    );
    expect(html).not.toContain('%HANGAR_CSP%');
    // No inline script the CSP would have to allow.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });
});
