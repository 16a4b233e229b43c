/**
 * ListsPorts (core/lists-ports.ts) on the local file system, fetch and zlib.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { ListsPorts, PathKind } from '../../core/index.ts';
import { loadCtiruList } from './ctiru-list.ts';
import { downloadToFile } from './http-download.ts';
import { loadIwfList } from './iwf-list.ts';
import { extractTarball } from './tarball.ts';
import { loadUt1Tree } from './ut1-tree-loader.ts';

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';

/** temp file + fsync + rename + fsync of the folder, so a crash leaves the old file or the new one. */
export const writeFileAtomic = async (file: string, data: Uint8Array | string, options: { mode?: number } = {}): Promise<void> => {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(temp, 'w', options.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some file systems cannot fsync a folder; the rename is still atomic.
  } finally {
    await dh.close();
  }
};

/** A lock left by a process on this machine that no longer exists (a crash) is stale at once. */
const holderIsGone = async (file: string): Promise<boolean> => {
  try {
    const { pid } = JSON.parse(await readFile(file, 'utf8')) as { pid?: unknown };
    if (typeof pid !== 'number' || pid === process.pid) return false;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
};

const tryLock = async (file: string, staleMs: number): Promise<(() => Promise<void>) | null> => {
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o644);
      await fh.writeFile(JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
      await fh.close();
      return () => unlink(file).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = await stat(file).catch(() => null);
      if (info && Date.now() - info.mtimeMs < staleMs && !(await holderIsGone(file))) return null;
      await unlink(file).catch(() => undefined);
    }
  }
  return null;
};

export const nodeListsPorts = (): ListsPorts => ({
  loadTree: loadUt1Tree,
  download: (url, toFile, options) => downloadToFile(url, toFile, options),
  extractArchive: extractTarball,
  loadIllegalList: (file, source) => (source === 'iwf' ? loadIwfList(file) : loadCtiruList(file)),
  kindOf: async (p): Promise<PathKind> => {
    try {
      const s = await stat(p);
      return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  },
  makeTempDir: async (parent, prefix) => {
    await mkdir(parent, { recursive: true });
    return mkdtemp(path.join(parent, prefix));
  },
  removeAll: (p) => rm(p, { recursive: true, force: true }),
  listDir: async (p) => {
    try {
      return (await readdir(p)).sort();
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
  },
  readFile: async (p) => {
    try {
      return await readFile(p);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  },
  writeFileAtomic,
  tryLock,
});
