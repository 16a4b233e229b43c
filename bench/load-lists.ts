/**
 * A tiny UT1/squidGuard tree loader for the benchmark (the production loader lives in
 * src/adapters): every folder under DIR holding a `domains`, `urls` or `expressions` file is one
 * list, named by its path relative to DIR. Symlinked folders (UT1's aliases) are not followed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SourceList } from '../src/core/index.ts';

const FILES = ['domains', 'urls', 'expressions'] as const;

const readLines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split(/\r?\n/) : []);

export const loadLists = (root: string): SourceList[] => {
  const lists: SourceList[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && (FILES as readonly string[]).includes(e.name))) {
      lists.push({
        name: path.relative(root, dir).split(path.sep).join('/'),
        domains: readLines(path.join(dir, 'domains')),
        urls: readLines(path.join(dir, 'urls')),
        expressions: readLines(path.join(dir, 'expressions')),
      });
    }
    for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) walk(path.join(dir, e.name));
  };
  walk(root);
  return lists;
};

/** The shared lists beside the repository, if they are there. */
export const sharedListsDir = (): string | null => {
  const dir = process.env.HAVEN_SHARED_LISTS ?? path.resolve('..', 'shared', 'data', 'categories');
  return existsSync(dir) ? dir : null;
};
