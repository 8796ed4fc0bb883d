import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { CONTENT_SECURITY_POLICY } from './shared/csp.js';

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [
    react(),
    {
      // One CSP for Electron (this meta tag) and web mode (the bridge's header).
      name: 'hangar-csp',
      transformIndexHtml: (html) => html.replace('%HANGAR_CSP%', CONTENT_SECURITY_POLICY),
    },
  ],
  resolve: {
    alias: [
      {
        // monaco-editor ≥ 0.55 exports its files as monaco-editor/<path> (./esm/vs/<path>);
        // monaco-yaml's worker (through monaco-worker-manager) still imports the old
        // monaco-editor/esm/vs/<path>, which that exports map no longer resolves.
        find: /^monaco-editor\/esm\/vs\//,
        replacement: 'monaco-editor/',
      },
    ],
  },
  worker: {
    // Module workers (`new Worker(url, { type: 'module' })`), like Monaco's own.
    format: 'es',
  },
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'chrome130',
    sourcemap: true,
  },
});
