/**
 * What no page may do: navigate, open windows, embed webviews, be granted
 * permissions. Written against the few members of Electron's WebContents and
 * Session it uses, so tests drive it with stand-ins (security.test.ts); the
 * real objects satisfy these types (checked where main.ts passes them).
 */

/** The part of an Electron event these hooks use. */
export interface Preventable {
  preventDefault: () => void;
}

type Refusal = (event: Preventable) => void;

/** The WebContents members the lock-down uses (one signature per event, as Electron declares them). */
export interface LockableContents {
  // One overload per event, as Electron declares them: a union would not accept the real WebContents.
  /* eslint-disable @typescript-eslint/unified-signatures */
  on: {
    (event: 'will-navigate', listener: Refusal): unknown;
    (event: 'will-frame-navigate', listener: Refusal): unknown;
    (event: 'will-redirect', listener: Refusal): unknown;
    (event: 'will-attach-webview', listener: Refusal): unknown;
  };
  /* eslint-enable @typescript-eslint/unified-signatures */
  setWindowOpenHandler: (handler: () => { action: 'deny' }) => void;
}

/** The Session members the lock-down uses. */
export interface LockableSession {
  setPermissionRequestHandler: (
    handler: (
      contents: { id: number } | null,
      permission: string,
      callback: (granted: boolean) => void,
    ) => void,
  ) => void;
  setPermissionCheckHandler: (
    handler: (contents: { id: number } | null, permission: string) => boolean,
  ) => void;
}

/**
 * The one permission the app's own page gets: writing text to the clipboard
 * (the Copy button of an operation's `lxc` command). Reading it is refused.
 */
const OWN_PAGE_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

/** Every page, whatever created it: no navigation, no new windows, no webviews. */
export function lockDownContents(contents: LockableContents): void {
  const refuse = (event: Preventable) => event.preventDefault();
  contents.on('will-navigate', refuse);
  contents.on('will-frame-navigate', refuse);
  contents.on('will-redirect', refuse);
  contents.on('will-attach-webview', refuse);
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/**
 * Refuses every permission request and check (camera, notifications,
 * geolocation, clipboard read…), except a clipboard write from the app's page.
 */
export function lockDownSession(
  session: LockableSession,
  isAppPage: (contents: { id: number } | null) => boolean,
): void {
  const allowed = (contents: { id: number } | null, permission: string) =>
    OWN_PAGE_PERMISSIONS.has(permission) && isAppPage(contents);
  session.setPermissionRequestHandler((contents, permission, callback) =>
    callback(allowed(contents, permission)),
  );
  session.setPermissionCheckHandler((contents, permission) => allowed(contents, permission));
}
