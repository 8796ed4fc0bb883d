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
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'chrome130',
    sourcemap: true,
  },
});
