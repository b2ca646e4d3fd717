// Builds the editor (web/) into web/dist; the server serves that folder at "/". Paths are relative so the editor
// also works when served under a prefix. The editor also bundles the server's browser-safe modules it shares
// (../src/runtime/graph: the workflow-to-prompt conversion and the wire types), by relative imports.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    sourcemap: true,
  },
  server: {
    // `npx vite web` during development: forward the API to a running server.
    proxy: { '/api': 'http://127.0.0.1:8188', '/ws': { target: 'ws://127.0.0.1:8188', ws: true } },
  },
});
