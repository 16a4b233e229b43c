/**
 * Importing category lists and the illegal-content lists, and keeping them fresh.
 *
 * importLists: download (URL) and unpack (.tar.gz) into a temporary folder under
 * <dataDir>/lists, read the UT1-form tree, keep the lists the category map uses, build the
 * classifier, then write the snapshot and its manifest atomically (temp file, fsync, rename).
 * Nothing on disk changes until every step has worked, so a failed, truncated or half-downloaded
 * import leaves the old snapshot and manifest serving.
 *
 * The illegal tier (IWF, CTIRU) is stored beside it as the supplier's files, copied after they
 * have been checked, readable by Haven's account only (mode 0600); the entries are never logged.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  createIllegalTier,
  DomainError,
  invalid,
  listTreeFilters,
  resolveListCategory,
  type CategoryMap,
  type Classifier,
  type Clock,
  type IllegalListLoad,
  type IllegalTier,
  type ListsPorts,
  type SourceList,
} from '../core/index.ts';

export interface ListsServiceDeps {
  ports: ListsPorts;
  categoryMap: CategoryMap;
  buildClassifier: (lists: readonly SourceList[]) => Classifier;
  loadClassifierSnapshot: (bytes: Uint8Array) => Classifier;
  clock: Clock;
}

export interface ImportLimits {
  maxDownloadBytes: number;
  downloadTimeoutMs: number;
  /** No byte for this long aborts a download. */
  idleTimeoutMs: number;
  maxUnpackedBytes: number;
  maxFileBytes: number;
  maxEntries: number;
}

/** Generous for UT1 (about 100 MB compressed, 300 files, 250 MB unpacked in 2026), absurd beyond. */
export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxDownloadBytes: 1 << 30,
  downloadTimeoutMs: 30 * 60_000,
  idleTimeoutMs: 2 * 60_000,
  maxUnpackedBytes: 4 * 2 ** 30,
  maxFileBytes: 2 ** 30,
  maxEntries: 100_000,
};

/** A new import with fewer than this share of the previous distinct domains is refused unless forced. */
export const SHRINK_GUARD = 0.5;
const LOCK_STALE_MS = 6 * 3_600_000;
const MAX_MANIFEST_WARNINGS = 100;
const BUILD_ATTEMPTS = 5;

export type ImportProgress =
  | { stage: 'download'; bytes: number; total: number | null }
  | { stage: 'extract'; bytes: number; entries: number }
  | { stage: 'read'; list: string; bytesDone: number; bytesTotal: number }
  | { stage: 'build'; lists: number; entries: number }
  | { stage: 'write'; bytes: number };

export interface ImportListsInput {
  /** A folder, a .tar.gz file, or an http(s) URL of a .tar.gz. */
  from: string;
  dataDir: string;
  /** Source folder name for lists found directly under the root (default "ut1"). */
  sourceName?: string;
  /** Accept an import much smaller than the previous one (see SHRINK_GUARD). */
  allowShrink?: boolean;
  limits?: Partial<ImportLimits>;
  onProgress?: (p: ImportProgress) => void;
}

export interface ManifestList {
  name: string;
  category: string;
  domains: number;
  urls: number;
  expressions: number;
  malformed: number;
  excluded: number;
}

export interface ListsManifest {
  format: 1;
  source: string;
  sourceName: string;
  importedAt: string;
  snapshot: { file: string; bytes: number; sha256: string };
  totals: {
    lists: number;
    domains: number;
    urls: number;
    expressions: number;
    malformed: number;
    excluded: number;
    distinctDomains: number;
  };
  lists: ManifestList[];
  /** Lists found and deliberately not used (category null in the map). */
  ignored: { name: string; reason: string }[];
  /** Lists found that the map does not name: not used, and worth a look. */
  unmapped: string[];
  warnings: string[];
}

export const listsPaths = (dataDir: string) => {
  const dir = path.join(dataDir, 'lists');
  return {
    dir,
    snapshot: path.join(dir, 'category-index.snapshot'),
    manifest: path.join(dir, 'category-index.manifest.json'),
    lock: path.join(dir, '.import.lock'),
    iwf: path.join(dir, 'illegal', 'iwf.txt'),
    ctiru: path.join(dir, 'illegal', 'ctiru.txt'),
  };
};

const isUrl = (s: string) => /^https?:\/\//i.test(s);

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const readManifest = async (ports: ListsPorts, file: string): Promise<ListsManifest | null> => {
  const bytes = await ports.readFile(file);
  if (!bytes) return null;
  try {
    const m = JSON.parse(Buffer.from(bytes).toString('utf8')) as ListsManifest;
    return m.format === 1 ? m : null;
  } catch {
    return null;
  }
};

const failure = (stage: string, message: string, cause?: unknown): DomainError =>
  invalid(`List import failed (${stage}): ${message}. The previous lists are still in use.`, {
    stage,
    cause: cause instanceof Error ? cause.message : undefined,
  });

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export const importLists = async (
  deps: ListsServiceDeps,
  input: ImportListsInput,
): Promise<{ manifest: ListsManifest; classifier: Classifier; previous: ListsManifest | null }> => {
  const { ports } = deps;
  const limits = { ...DEFAULT_IMPORT_LIMITS, ...input.limits };
  const paths = listsPaths(input.dataDir);
  const sourceName = input.sourceName ?? 'ut1';
  const progress = input.onProgress ?? (() => undefined);
  if (!/^[A-Za-z0-9_.-]+$/.test(sourceName) || sourceName.startsWith('.')) throw invalid(`"${sourceName}" cannot name a source folder`);

  const release = await ports.tryLock(paths.lock, LOCK_STALE_MS);
  if (!release) throw new DomainError('CONFLICT', 'Another list import is running; try again when it has finished', 409);
  let work: string | null = null;
  try {
    // Holding the lock, anything temporary left in the folder is from an import that crashed.
    for (const name of await ports.listDir(paths.dir)) {
      if (name.startsWith('.import-') || (name.startsWith('.category-index.') && name.endsWith('.tmp')))
        await ports.removeAll(path.join(paths.dir, name));
    }
    work = await ports.makeTempDir(paths.dir, '.import-');
    const notes: string[] = [];

    // 1. Get a folder.
    let archive: string | null = null;
    let folder: string;
    if (isUrl(input.from)) {
      archive = path.join(work, 'download.tar.gz');
      try {
        await ports.download(input.from, archive, {
          maxBytes: limits.maxDownloadBytes,
          timeoutMs: limits.downloadTimeoutMs,
          idleTimeoutMs: limits.idleTimeoutMs,
          onProgress: (bytes, total) => progress({ stage: 'download', bytes, total }),
        });
      } catch (err) {
        throw failure('download', messageOf(err), err);
      }
    } else {
      const kind = await ports.kindOf(input.from);
      if (kind === null) throw failure('source', `${input.from} does not exist`);
      if (kind === 'file') archive = input.from;
    }
    if (archive) {
      folder = path.join(work, 'tree');
      try {
        const unpacked = await ports.extractArchive(archive, folder, {
          maxBytes: limits.maxUnpackedBytes,
          maxFileBytes: limits.maxFileBytes,
          maxEntries: limits.maxEntries,
          onProgress: (bytes, entries) => progress({ stage: 'extract', bytes, entries }),
        });
        notes.push(...unpacked.notes);
      } catch (err) {
        throw failure('unpack', messageOf(err), err);
      }
    } else {
      folder = input.from;
    }

    // 2. Read the lists the map uses.
    const map = deps.categoryMap;
    let tree;
    try {
      tree = await ports.loadTree(folder, {
        sourceName,
        unwrapSingleFolder: true,
        ...listTreeFilters(map),
        onProgress: (p) => progress({ stage: 'read', list: p.list, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal }),
      });
    } catch (err) {
      throw failure('read', messageOf(err), err);
    }
    const ignored: ListsManifest['ignored'] = [];
    const unmapped: string[] = [];
    for (const name of tree.skipped) {
      const c = resolveListCategory(map, name);
      if (c.kind === 'ignored') ignored.push({ name, reason: c.reason });
      else unmapped.push(name);
    }
    const lists: ManifestList[] = tree.lists.map((l) => {
      const c = resolveListCategory(map, l.name);
      return {
        name: l.name,
        category: c.kind === 'mapped' ? c.category : '',
        domains: l.domains.length,
        urls: l.urls.length,
        expressions: l.expressions.length,
        malformed: l.malformed,
        excluded: l.excluded,
      };
    });
    const sum = (k: 'domains' | 'urls' | 'expressions' | 'malformed' | 'excluded') => lists.reduce((n, l) => n + l[k], 0);
    const entries = sum('domains') + sum('urls') + sum('expressions');
    if (lists.length === 0) {
      const found = [...tree.skipped];
      throw failure(
        'validate',
        found.length
          ? `none of the ${found.length} lists found is in the category map (found: ${found.slice(0, 10).join(', ')}${found.length > 10 ? ', …' : ''})`
          : `no lists found in ${input.from} (a list is a folder holding a domains, urls or expressions file)`,
      );
    }
    if (entries === 0) throw failure('validate', 'the lists hold no entries');

    // 3. Build, and check the snapshot reads back.
    progress({ stage: 'build', lists: lists.length, entries });
    let classifier: Classifier | undefined;
    let snapshot: Uint8Array | undefined;
    const buildNotes: string[] = [];
    // The snapshot must read back equal before it may replace the one in use. Each build draws a
    // fresh hash seed, so a snapshot that does not read back is rebuilt (a few times at most).
    for (let attempt = 1; !classifier; attempt++) {
      try {
        const built = deps.buildClassifier(tree.lists);
        const bytes = built.toSnapshot();
        const reread = deps.loadClassifierSnapshot(bytes);
        if (reread.domainCount !== built.domainCount || reread.listNames.join('\n') !== built.listNames.join('\n'))
          throw new Error('the snapshot does not read back equal to the index');
        classifier = built;
        snapshot = bytes;
      } catch (err) {
        if (attempt >= BUILD_ATTEMPTS) throw failure('build', messageOf(err), err);
        buildNotes.push(`index rebuilt: attempt ${attempt} failed (${messageOf(err)})`);
      }
    }
    if (!snapshot) throw failure('build', 'no snapshot');
    // The lists' strings are the bulk of the memory; the index holds none of them.
    tree.lists.length = 0;
    const previous = await readManifest(ports, paths.manifest);
    if (
      !input.allowShrink &&
      previous &&
      previous.totals.distinctDomains > 0 &&
      classifier.domainCount < previous.totals.distinctDomains * SHRINK_GUARD
    ) {
      throw failure(
        'validate',
        `the new lists hold ${classifier.domainCount} domains, under half the ${previous.totals.distinctDomains} now in use (a truncated or broken upstream?); use --force to accept`,
      );
    }

    // 4. Swap in: snapshot first, then the manifest that describes it.
    const warnings = [
      ...notes,
      ...tree.warnings,
      ...buildNotes,
      ...unmapped.map((n) => `list ${n} is not in the category map and was not used`),
    ];
    const manifest: ListsManifest = {
      format: 1,
      source: input.from,
      sourceName,
      importedAt: deps.clock.now().toISOString(),
      snapshot: { file: path.basename(paths.snapshot), bytes: snapshot.byteLength, sha256: sha256Hex(snapshot) },
      totals: {
        lists: lists.length,
        domains: sum('domains'),
        urls: sum('urls'),
        expressions: sum('expressions'),
        malformed: sum('malformed'),
        excluded: sum('excluded'),
        distinctDomains: classifier.domainCount,
      },
      lists,
      ignored,
      unmapped,
      warnings:
        warnings.length > MAX_MANIFEST_WARNINGS
          ? [...warnings.slice(0, MAX_MANIFEST_WARNINGS), `${warnings.length - MAX_MANIFEST_WARNINGS} more warnings`]
          : warnings,
    };
    progress({ stage: 'write', bytes: snapshot.byteLength });
    await ports.writeFileAtomic(paths.snapshot, snapshot);
    await ports.writeFileAtomic(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
    return { manifest, classifier, previous };
  } finally {
    if (work) await ports.removeAll(work).catch(() => undefined);
    await release();
  }
};

export interface ListsStatus {
  snapshotPath: string;
  manifestPath: string;
  manifest: ListsManifest | null;
  /** Size of the snapshot on disk, null when there is none. */
  snapshotBytes: number | null;
  /** Whether the snapshot on disk is the one the manifest describes. */
  snapshotMatches: boolean | null;
}

export const listsStatus = async (deps: Pick<ListsServiceDeps, 'ports'>, dataDir: string): Promise<ListsStatus> => {
  const paths = listsPaths(dataDir);
  const manifest = await readManifest(deps.ports, paths.manifest);
  const snapshot = await deps.ports.readFile(paths.snapshot);
  return {
    snapshotPath: paths.snapshot,
    manifestPath: paths.manifest,
    manifest,
    snapshotBytes: snapshot ? snapshot.byteLength : null,
    snapshotMatches: snapshot && manifest ? sha256Hex(snapshot) === manifest.snapshot.sha256 : null,
  };
};

/** The imported index, or null when nothing has been imported yet. */
export const loadImportedClassifier = async (
  deps: Pick<ListsServiceDeps, 'ports' | 'loadClassifierSnapshot'>,
  dataDir: string,
): Promise<{ classifier: Classifier; manifest: ListsManifest | null } | null> => {
  const paths = listsPaths(dataDir);
  const bytes = await deps.ports.readFile(paths.snapshot);
  if (!bytes) return null;
  return { classifier: deps.loadClassifierSnapshot(bytes), manifest: await readManifest(deps.ports, paths.manifest) };
};

// ---------------------------------------------------------------------------------------------
// The illegal-content tier

export type IllegalListKind = 'iwf' | 'ctiru';

export interface IllegalImportResult {
  kind: IllegalListKind;
  storedAt: string;
  lines: number;
  malformed: number;
  entries: { plain: number; sha256: number; md5: number };
  warnings: string[];
}

/** Checks a supplier's file and stores it (mode 0600) as the current IWF or CTIRU list. */
export const importIllegalList = async (
  deps: Pick<ListsServiceDeps, 'ports'>,
  input: { kind: IllegalListKind; from: string; dataDir: string },
): Promise<IllegalImportResult> => {
  const paths = listsPaths(input.dataDir);
  const dest = input.kind === 'iwf' ? paths.iwf : paths.ctiru;
  const name = input.kind.toUpperCase();
  if ((await deps.ports.kindOf(input.from)) !== 'file') throw invalid(`${input.from} is not a file`);
  const loaded = await deps.ports.loadIllegalList(input.from, input.kind);
  const held = loaded.entries.plain.length + loaded.entries.sha256.length + loaded.entries.md5.length;
  if (held === 0) throw invalid(`The ${name} list holds no valid entries (${loaded.malformed} malformed lines); the current list is kept`);
  const bytes = await deps.ports.readFile(input.from);
  if (!bytes) throw invalid(`${input.from} disappeared while it was being read`);
  await deps.ports.writeFileAtomic(dest, bytes, { mode: 0o600 });
  return {
    kind: input.kind,
    storedAt: dest,
    lines: loaded.lines,
    malformed: loaded.malformed,
    entries: { plain: loaded.entries.plain.length, sha256: loaded.entries.sha256.length, md5: loaded.entries.md5.length },
    warnings: loaded.warnings,
  };
};

export interface LoadedIllegalTier {
  tier: IllegalTier;
  sources: Record<IllegalListKind, Omit<IllegalListLoad, 'entries'> | null>;
  warnings: string[];
}

/** Builds the tier from the stored IWF/CTIRU lists (either may be absent) and the canaries. */
export const loadIllegalTier = async (
  deps: Pick<ListsServiceDeps, 'ports'>,
  input: { dataDir: string; canaries: readonly string[] },
): Promise<LoadedIllegalTier> => {
  const paths = listsPaths(input.dataDir);
  const sources: LoadedIllegalTier['sources'] = { iwf: null, ctiru: null };
  const entries = [];
  const warnings: string[] = [];
  for (const kind of ['iwf', 'ctiru'] as const) {
    const file = kind === 'iwf' ? paths.iwf : paths.ctiru;
    if ((await deps.ports.kindOf(file)) !== 'file') {
      warnings.push(`no ${kind.toUpperCase()} list has been imported (haven lists import-illegal --${kind} FILE)`);
      continue;
    }
    const loaded = await deps.ports.loadIllegalList(file, kind);
    entries.push(loaded.entries);
    sources[kind] = { lines: loaded.lines, malformed: loaded.malformed, warnings: loaded.warnings };
    warnings.push(...loaded.warnings);
  }
  return { tier: createIllegalTier(entries, { canaries: input.canaries }), sources, warnings };
};

// ---------------------------------------------------------------------------------------------
// Scheduled updates (the worker role)

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type ScheduledResult =
  { ok: true; manifest: ListsManifest; classifier: Classifier; previous: ListsManifest | null } | { ok: false; error: Error };

export interface ScheduledListUpdates {
  /** Runs an update now (unless one is running), then waits a full interval again. */
  runNow(): Promise<ScheduledResult | null>;
  stop(): void;
  /** When the next update is due (ISO time), or null once stopped. */
  nextRunAt(): string | null;
}

export interface ScheduleOptions {
  url: string;
  everyHours: number;
  dataDir: string;
  sourceName?: string;
  /** After a failed update, try again this much sooner than a full interval (default 1 hour). */
  retryMinutes?: number;
  timers: Timers;
  /** Called after every attempt: a new classifier to swap in, or the error (the old index keeps serving). */
  onResult?: (result: ScheduledResult) => void;
}

/** Timers wake at least this often, so long intervals and clock jumps (suspend) are handled. */
const MAX_TIMER_MS = 3_600_000;

/**
 * Imports from `url` every `everyHours`: the first run is due `everyHours` after the last import
 * recorded in the manifest (at once when there is none), and each run is followed by a full
 * interval, or by `retryMinutes` after a failure. Runs never overlap.
 */
export const scheduleListUpdates = (deps: ListsServiceDeps, options: ScheduleOptions): ScheduledListUpdates => {
  if (!(options.everyHours > 0)) throw invalid('The list update interval must be a positive number of hours');
  const intervalMs = options.everyHours * 3_600_000;
  const retryMs = Math.min(intervalMs, (options.retryMinutes ?? 60) * 60_000);
  const now = () => deps.clock.now().getTime();
  let dueAt: number | null = null;
  let handle: unknown = null;
  let stopped = false;
  let running: Promise<ScheduledResult> | null = null;

  const arm = () => {
    if (stopped || dueAt === null) return;
    if (handle !== null) options.timers.clearTimeout(handle);
    const wait = Math.max(0, Math.min(dueAt - now(), MAX_TIMER_MS));
    handle = options.timers.setTimeout(() => {
      handle = null;
      if (dueAt !== null && now() >= dueAt) void run();
      else arm();
    }, wait);
  };

  const run = async (): Promise<ScheduledResult> => {
    if (running) return running;
    running = (async (): Promise<ScheduledResult> => {
      let result: ScheduledResult;
      try {
        const { manifest, classifier, previous } = await importLists(deps, {
          from: options.url,
          dataDir: options.dataDir,
          sourceName: options.sourceName,
        });
        result = { ok: true, manifest, classifier, previous };
      } catch (err) {
        result = { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
      }
      dueAt = now() + (result.ok ? intervalMs : retryMs);
      arm();
      options.onResult?.(result);
      return result;
    })();
    try {
      return await running;
    } finally {
      running = null;
    }
  };

  void (async () => {
    const manifest = await readManifest(deps.ports, listsPaths(options.dataDir).manifest).catch(() => null);
    const last = manifest ? Date.parse(manifest.importedAt) : NaN;
    if (stopped) return;
    if (dueAt === null) dueAt = Number.isFinite(last) ? last + intervalMs : now();
    arm();
  })();

  return {
    runNow: async () => (stopped ? null : run()),
    stop: () => {
      stopped = true;
      dueAt = null;
      if (handle !== null) options.timers.clearTimeout(handle);
      handle = null;
    },
    nextRunAt: () => (dueAt === null ? null : new Date(dueAt).toISOString()),
  };
};
