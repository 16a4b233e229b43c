/**
 * Builds the Haven single-page app into dist/web, where the API serves it. In development
 * (`npx vite --config web/vite.config.ts`) the dev server forwards API calls to a local API.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const apiTarget = process.env['HAVEN_API_URL'] ?? 'http://127.0.0.1:8080';
const proxy = {
  '/api': { target: apiTarget, changeOrigin: false },
  '/healthz': { target: apiTarget, changeOrigin: false },
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  // The API's CSP allows only same-origin scripts and styles: keep every asset a file.
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: { proxy },
  preview: { proxy },
});
