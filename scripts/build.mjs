#!/usr/bin/env node
// Builds Haven: the server and CLI into dist/haven.mjs (esbuild; npm packages stay external) and
// the web app into dist/web (Vite). Writes dist/.build-stamp when both succeed.
import { writeFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';

const started = Date.now();
mkdirSync('dist', { recursive: true });
await build({
  entryPoints: ['src/app/main.ts'],
  outfile: 'dist/haven.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
await viteBuild({ configFile: 'web/vite.config.ts', logLevel: 'warn' });
writeFileSync('dist/.build-stamp', new Date().toISOString());
process.stderr.write(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
