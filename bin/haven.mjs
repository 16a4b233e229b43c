#!/usr/bin/env node
// The `haven` command. In a checkout with the TypeScript sources and tsx (after `npm install`),
// it runs the sources, so it is never stale; an installed package runs the bundle in dist/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const source = path.join(root, 'src', 'app', 'main.ts');
const bundle = path.join(root, 'dist', 'haven.mjs');

let useSource = existsSync(source);
if (useSource) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    useSource = false;
  }
}
if (!useSource && !existsSync(bundle)) {
  process.stderr.write('haven: not built yet; run `npm run build` first\n');
  process.exit(1);
}
await import(pathToFileURL(useSource ? source : bundle).href);
