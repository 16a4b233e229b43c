/**
 * `haven lists …`: import category lists (a folder, a .tar.gz, or a URL of one), import the IWF
 * and CTIRU lists, and show what is in use. Progress and warnings go to stderr; the summary goes
 * to stdout as `key: value` lines for scripts.
 *
 * Also the composition the worker role needs for scheduled updates (`startScheduledListUpdates`,
 * from HAVEN_LISTS_URL and HAVEN_LISTS_UPDATE_HOURS).
 */
import { userInfo } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { nodeListsPorts } from '../../adapters/index.ts';
import { buildClassifier, loadClassifierSnapshot, parseIllegalCanaries, type Clock } from '../../core/index.ts';
import {
  cleanReason,
  importIllegalList,
  importLists,
  recordIllegalImport,
  recordListsImport,
  systemContext,
  listsStatus,
  loadIllegalTier,
  scheduleListUpdates,
  type ImportProgress,
  type ListsServiceDeps,
  type ScheduledListUpdates,
  type ScheduledResult,
} from '../../services/index.ts';
import { openHaven, type Haven } from '../compose.ts';
import { loadConfig } from '../config.ts';

type Env = Record<string, string | undefined>;

const err = (line: string) => process.stderr.write(`${line}\n`);
/** Who the audit log names for a change made at the command line. */
const cliContext = () => systemContext(`cli (${userInfo().username})`);
const out = (line: string) => process.stdout.write(`${line}\n`);

import { loadCategoryMap } from '../category-map-file.ts';
export { categoryMapPath, loadCategoryMap } from '../category-map-file.ts';

const systemClock: Clock = { now: () => new Date() };

export const listsServiceDeps = (): ListsServiceDeps => ({
  ports: nodeListsPorts(),
  categoryMap: loadCategoryMap(),
  buildClassifier: (lists) => buildClassifier(lists),
  loadClassifierSnapshot,
  clock: systemClock,
});

export interface ListsSettings {
  /** HAVEN_LISTS_URL: where scheduled updates download from; undefined: no scheduled updates. */
  url: string | undefined;
  /** HAVEN_LISTS_UPDATE_HOURS (default 24; 0 turns scheduled updates off). */
  updateHours: number;
  /** HAVEN_ILLEGAL_CANARIES (comma-separated URLs or hosts; default iwf-canary.haven.test). */
  canaries: string[];
}

export const listsSettingsFromEnv = (env: Env = process.env): ListsSettings => {
  const url = env.HAVEN_LISTS_URL?.trim() || undefined;
  if (url && !/^https?:\/\/\S+$/i.test(url)) throw new Error(`HAVEN_LISTS_URL must be an http or https URL (got "${url}")`);
  const rawHours = env.HAVEN_LISTS_UPDATE_HOURS?.trim() || '24';
  const updateHours = Number(rawHours);
  if (!Number.isFinite(updateHours) || updateHours < 0 || updateHours > 720)
    throw new Error(`HAVEN_LISTS_UPDATE_HOURS must be a number of hours from 0 (off) to 720 (got "${rawHours}")`);
  return { url, updateHours, canaries: parseIllegalCanaries(env.HAVEN_ILLEGAL_CANARIES) };
};

/**
 * For the worker role: imports from HAVEN_LISTS_URL every HAVEN_LISTS_UPDATE_HOURS; null when no
 * URL is set or updates are off. `onResult` receives each new classifier to swap in (or the error;
 * the old index keeps serving).
 */
export const startScheduledListUpdates = (
  options: { env?: Env; dataDir?: string; onResult?: (r: ScheduledResult) => void } = {},
): ScheduledListUpdates | null => {
  const settings = listsSettingsFromEnv(options.env);
  if (!settings.url || settings.updateHours === 0) return null;
  return scheduleListUpdates(listsServiceDeps(), {
    url: settings.url,
    everyHours: settings.updateHours,
    dataDir: options.dataDir ?? loadConfig(options.env).dataDir,
    timers: {
      setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    onResult: (r) => {
      if (r.ok)
        err(`lists updated from ${settings.url ?? ''}: ${r.manifest.totals.lists} lists, ${r.manifest.totals.distinctDomains} domains`);
      else err(`scheduled list update failed: ${r.error.message}`);
      options.onResult?.(r);
    },
  });
};

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

const describeProgress = (p: ImportProgress): string => {
  switch (p.stage) {
    case 'download':
      return p.total ? `downloading ${mb(p.bytes)} of ${mb(p.total)}` : `downloading ${mb(p.bytes)}`;
    case 'extract':
      return `unpacking ${mb(p.bytes)} (${p.entries} entries)`;
    case 'read':
      return `reading lists ${p.bytesTotal ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100}% (${p.list})`;
    case 'build':
      return `building the index from ${p.entries} entries in ${p.lists} lists`;
    case 'write':
      return `writing the snapshot (${mb(p.bytes)})`;
  }
};

/** Progress on stderr: one rewritten line on a terminal, a line every few seconds otherwise. */
const progressPrinter = () => {
  const tty = process.stderr.isTTY;
  let last = 0;
  let lastStage = '';
  let shown = false;
  return {
    show: (p: ImportProgress) => {
      const now = Date.now();
      if (p.stage === lastStage && now - last < (tty ? 200 : 5000)) return;
      last = now;
      lastStage = p.stage;
      const text = describeProgress(p);
      if (tty) process.stderr.write(`\r\x1b[K${text}`);
      else err(text);
      shown = true;
    },
    done: () => {
      if (tty && shown) process.stderr.write('\r\x1b[K');
    },
  };
};

/** Imports lists, prints the summary, and records what changed and why in the audit log. */
const importAndRecord = async (haven: Haven, opts: { from: string; source: string; force?: boolean; reason: string }) => {
  const config = haven.config;
  const progress = progressPrinter();
  const from = /^https?:\/\//i.test(opts.from) ? opts.from : path.resolve(opts.from);
  let result;
  try {
    result = await importLists(listsServiceDeps(), {
      from,
      dataDir: config.dataDir,
      sourceName: opts.source,
      allowShrink: opts.force ?? false,
      onProgress: progress.show,
    });
  } finally {
    progress.done();
  }
  const m = result.manifest;
  for (const w of m.warnings.slice(0, 20)) err(`warning: ${w}`);
  if (m.warnings.length > 20) err(`… ${m.warnings.length - 20} more warnings in the manifest`);
  out(`source: ${m.source}`);
  out(`lists: ${m.totals.lists}`);
  out(`lists not used: ${m.ignored.length} on purpose, ${m.unmapped.length} not in the category map`);
  out(`domains: ${m.totals.domains}`);
  out(`distinct domains: ${m.totals.distinctDomains}`);
  out(`urls: ${m.totals.urls}`);
  out(`expressions: ${m.totals.expressions}`);
  out(`malformed lines: ${m.totals.malformed}`);
  out(`excluded entries: ${m.totals.excluded}`);
  out(`warnings: ${m.warnings.length}`);
  out(`snapshot: ${path.join(config.dataDir, 'lists', m.snapshot.file)} (${m.snapshot.bytes} bytes)`);
  out(`manifest: ${path.join(config.dataDir, 'lists', 'category-index.manifest.json')}`);
  const changes = await recordListsImport(haven.services.deps.store, cliContext(), new Date().toISOString(), {
    before: result.previous,
    after: m,
    reason: opts.reason,
  });
  out(`recorded in the audit log: ${changes.length} change lines`);
};

export const registerListsCommand = (program: Command): void => {
  const lists = program.command('lists').description('category lists (UT1 form) and the illegal-content lists (IWF, CTIRU)');

  lists
    .command('import')
    .description(
      'import category lists in UT1/squidGuard form from a folder, a .tar.gz file or an http(s) URL of one; the new index replaces the old one only when every step has worked',
    )
    .requiredOption('--from <dir|file|url>', 'a folder, a .tar.gz, or an http(s) URL of a .tar.gz (e.g. UT1’s blacklists.tar.gz)')
    .option('--source <name>', 'folder name given to lists found directly under the root', 'ut1')
    .option('--force', 'accept lists holding under half the domains of the ones in use')
    .requiredOption('--reason <text>', 'why the lists are changing; recorded in the audit log with the changes')
    .action(async (opts: { from: string; source: string; force?: boolean; reason: string }) => {
      const reason = cleanReason(opts.reason);
      const config = loadConfig();
      const haven = await openHaven(config);
      try {
        await importAndRecord(haven, { ...opts, reason });
      } finally {
        await haven.close();
      }
    });

  lists
    .command('import-illegal')
    .description('check and store the IWF URL list (plain or hashed) and/or the CTIRU list; they always block, for everyone')
    .option('--iwf <file>', 'the IWF URL list')
    .option('--ctiru <file>', 'the CTIRU list')
    .requiredOption('--reason <text>', 'why the list is changing (e.g. "IWF daily update"); recorded in the audit log')
    .action(async (opts: { iwf?: string; ctiru?: string; reason: string }) => {
      if (!opts.iwf && !opts.ctiru) throw new Error('give --iwf FILE and/or --ctiru FILE');
      const reason = cleanReason(opts.reason);
      const config = loadConfig();
      const deps = { ports: nodeListsPorts() };
      const haven = await openHaven(config);
      try {
        for (const kind of ['iwf', 'ctiru'] as const) {
          const file = opts[kind];
          if (!file) continue;
          const r = await importIllegalList(deps, { kind, from: path.resolve(file), dataDir: config.dataDir });
          for (const w of r.warnings) err(`warning: ${w}`);
          out(
            `${kind}: ${r.entries.plain} URLs, ${r.entries.sha256} SHA-256, ${r.entries.md5} MD5, ${r.malformed} malformed lines; stored at ${r.storedAt}`,
          );
          await recordIllegalImport(haven.services.deps.store, cliContext(), new Date().toISOString(), { result: r, reason });
        }
      } finally {
        await haven.close();
      }
    });

  lists
    .command('status')
    .description(
      'show the imported lists, the snapshot in use and the illegal-content tier; exits 1 if the index or the tier is not usable',
    )
    .action(async () => {
      const config = loadConfig();
      const settings = listsSettingsFromEnv();
      const ports = nodeListsPorts();
      const s = await listsStatus({ ports }, config.dataDir);
      let ok = true;
      if (!s.manifest || s.snapshotBytes === null) {
        out('lists: none imported (haven lists import --from DIR|URL)');
        ok = false;
      } else {
        const m = s.manifest;
        out(`source: ${m.source}`);
        out(`imported: ${m.importedAt}`);
        out(`lists: ${m.totals.lists} (${m.ignored.length} not used on purpose, ${m.unmapped.length} not in the category map)`);
        out(`domains: ${m.totals.domains}`);
        out(`distinct domains: ${m.totals.distinctDomains}`);
        out(`urls: ${m.totals.urls}`);
        out(`expressions: ${m.totals.expressions}`);
        out(`warnings: ${m.warnings.length}`);
        out(`snapshot: ${s.snapshotPath} (${s.snapshotBytes} bytes)${s.snapshotMatches ? '' : ' — DOES NOT MATCH its manifest'}`);
        if (!s.snapshotMatches) ok = false;
      }
      out(
        `scheduled updates: ${settings.url && settings.updateHours > 0 ? `every ${settings.updateHours} h from ${settings.url}` : 'off (set HAVEN_LISTS_URL)'}`,
      );
      const illegal = await loadIllegalTier({ ports }, { dataDir: config.dataDir, canaries: settings.canaries });
      const check = illegal.tier.selfCheck();
      out(`iwf: ${illegal.sources.iwf ? `${check.entries.iwf} entries` : 'not imported'}`);
      out(`ctiru: ${illegal.sources.ctiru ? `${check.entries.ctiru} entries` : 'not imported'}`);
      out(
        `illegal tier self-check: ${check.ok ? 'OK' : 'FAILED'} (${check.canaries.map((c) => `${c.entry} ${c.blocked ? 'blocked' : 'NOT blocked'}`).join(', ')})`,
      );
      if (!check.ok) ok = false;
      if (!ok) process.exitCode = 1;
    });
};
