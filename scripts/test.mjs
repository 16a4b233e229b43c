#!/usr/bin/env node
// Runs every test file under src/, e2e/ and scripts/ with node:test through tsx. Node 20's
// `node --test` neither expands globs nor finds .ts files, so the list is built here and passed
// explicitly. Arguments narrow the run: `npm test -- src/core` runs only files under src/core.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const roots = ['src', 'e2e', 'scripts'];
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === 'node_modules') return [];
    return statSync(full).isDirectory() ? walk(full) : /\.test\.(ts|mjs)$/.test(name) ? [full] : [];
  });

const files = roots
  .flatMap((r) => {
    try {
      return walk(r);
    } catch {
      return [];
    }
  })
  .filter((f) => filters.length === 0 || filters.some((p) => f.startsWith(p) || f.includes(p)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// A test that hangs fails after five minutes instead of holding the whole run (and CI) hostage.
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...passThrough, ...files],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
