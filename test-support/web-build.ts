/**
 * Browser tests need the built web app; build it when it is missing or older than its sources.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const newest = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const full = path.join(dir, e.name);
    return Math.max(max, e.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }, 0);

export const ensureWebBuilt = (): void => {
  const index = 'dist/web/index.html';
  if (existsSync(index) && statSync(index).mtimeMs >= newest('web')) return;
  const r = spawnSync(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('building the web app failed');
};
