/** The renderer's Content Security Policy: only our own bundled code, no eval, no remote content. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  // 'unsafe-inline' for styles only, because of Monaco (the YAML editor): it writes its theme,
  // token colours and decorations into <style> elements it creates, and positions its lines and
  // widgets with style="…" attributes in the HTML it renders. Without it Monaco draws uncoloured,
  // misplaced text (checked in Chromium: hundreds of style-src-elem/style-src-attr violations) and
  // it has no nonce hook. Scripts stay 'self' only: an inline style cannot run code.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  // Monaco's codicon font is emitted as a file next to the app.
  "font-src 'self'",
  "connect-src 'self'",
  // Monaco's workers are files Vite emits (renderer/editing/monaco-setup.ts starts them by URL).
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');
