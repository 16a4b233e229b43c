#!/usr/bin/env node
// `npm start`: builds if the sources are newer than the last build, then runs `haven start`
// from the bundle (migrates, seeds the demo school on an empty database, serves).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const stamp = 'dist/.build-stamp';
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const full = path.join(dir, e.name);
    if (e.name === 'node_modules') return max;
    return Math.max(max, e.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }, 0);

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const sources = Math.max(newest('src'), newest('web'), statSync('package.json').mtimeMs);
if (sources > built || !existsSync('dist/haven.mjs') || !existsSync('dist/web/index.html')) {
  process.stderr.write('Building Haven…\n');
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const args = process.argv.slice(2);
const r = spawnSync(process.execPath, ['--enable-source-maps', 'dist/haven.mjs', 'start', ...args], { stdio: 'inherit' });
process.exit(r.status ?? (r.signal ? 0 : 1));
