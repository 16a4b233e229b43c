/**
 * Loads what the filter runtime classifies with, from the data directory: the imported category
 * index (snapshot + manifest), mapped to Haven's categories by the current category map, and the
 * illegal-content tier from the stored IWF/CTIRU lists and the canaries. Also watches for a new
 * import made by another process (`haven lists import`, the worker) and swaps it in.
 */
import { stat } from 'node:fs/promises';
import { nodeListsPorts } from '../adapters/index.ts';
import { categoriesForLists, createClassificationEngine, loadClassifierSnapshot, parseIllegalCanaries } from '../core/index.ts';
import {
  emptyClassification,
  listsPaths,
  loadIllegalTier,
  loadImportedClassifier,
  type ClassificationBundle,
  type FilterRuntime,
} from '../services/index.ts';
import { loadCategoryMap } from './category-map-file.ts';

type Env = Record<string, string | undefined>;

export const loadClassificationBundle = async (dataDir: string, env: Env = process.env): Promise<ClassificationBundle> => {
  const ports = nodeListsPorts();
  const { tier } = await loadIllegalTier({ ports }, { dataDir, canaries: parseIllegalCanaries(env.HAVEN_ILLEGAL_CANARIES) });
  const imported = await loadImportedClassifier({ ports, loadClassifierSnapshot }, dataDir);
  if (!imported) return emptyClassification(tier);
  const listCategories = categoriesForLists(loadCategoryMap(), imported.classifier.listNames);
  return {
    engine: createClassificationEngine({ classifier: imported.classifier, listCategories, illegal: tier }),
    illegal: tier,
    manifest: imported.manifest,
  };
};

/** A fingerprint of the files a bundle is loaded from: it changes when any of them is replaced. */
export const listFilesStamp = async (dataDir: string): Promise<string> => {
  const paths = listsPaths(dataDir);
  const parts = await Promise.all(
    [paths.snapshot, paths.manifest, paths.iwf, paths.ctiru].map(async (file) => {
      try {
        const s = await stat(file);
        return `${s.size}:${s.mtimeMs}:${s.ino}`;
      } catch {
        return '-';
      }
    }),
  );
  return parts.join('|');
};

/**
 * Every `everyMs`, reloads the runtime's index and tier when their files have changed (an import
 * by another process). The old ones serve until the new ones are loaded; a failed load keeps them.
 */
export const watchListFiles = (
  runtime: FilterRuntime,
  dataDir: string,
  options: { everyMs?: number; onReload?: (error: Error | null) => void } = {},
): { stop: () => void; check: () => Promise<boolean> } => {
  let last: string | null = null;
  let busy = false;
  const check = async (): Promise<boolean> => {
    if (busy) return false;
    busy = true;
    try {
      const stamp = await listFilesStamp(dataDir);
      if (last === null) {
        last = stamp;
        return false;
      }
      if (stamp === last) return false;
      try {
        await runtime.reloadClassification();
        last = stamp;
        options.onReload?.(null);
        return true;
      } catch (err) {
        options.onReload?.(err instanceof Error ? err : new Error(String(err)));
        return false;
      }
    } finally {
      busy = false;
    }
  };
  void check();
  const timer = setInterval(() => void check(), options.everyMs ?? 30_000);
  timer.unref();
  return { stop: () => clearInterval(timer), check };
};
