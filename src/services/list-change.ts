/**
 * Change control for category and illegal-content lists: what an import changed, in lines a
 * person can read, recorded in the audit log with who did it and why.
 */
import type { Store } from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import type { RequestContext } from './context.ts';
import { cleanReason } from './policy-service.ts';
import type { IllegalImportResult, ListsManifest } from './list-service.ts';

const MAX_LINES = 200;
const n = (x: number) => x.toLocaleString('en-GB');
const delta = (before: number, after: number) => (after >= before ? `+${n(after - before)}` : `−${n(before - after)}`);

/** One line per list added, removed or changed in size, after a line for the totals. */
export const listsDiff = (before: ListsManifest | null, after: ListsManifest): string[] => {
  const lines: string[] = [];
  if (!before) {
    lines.push(`First import: ${n(after.totals.lists)} lists, ${n(after.totals.distinctDomains)} domains from ${after.source}`);
    return lines;
  }
  if (before.source !== after.source) lines.push(`Source changed from ${before.source} to ${after.source}`);
  const b = before.totals.distinctDomains;
  const a = after.totals.distinctDomains;
  lines.push(b === a ? `Domains unchanged at ${n(a)}` : `Domains: ${n(b)} → ${n(a)} (${delta(b, a)})`);
  const old = new Map(before.lists.map((l) => [l.name, l]));
  const detail: string[] = [];
  for (const l of after.lists) {
    const was = old.get(l.name);
    old.delete(l.name);
    if (!was) detail.push(`Added list ${l.name} (${l.category}, ${n(l.domains)} domains)`);
    else if (was.category !== l.category) detail.push(`List ${l.name} now feeds ${l.category} (was ${was.category})`);
    else if (was.domains !== l.domains || was.urls !== l.urls || was.expressions !== l.expressions) {
      const parts = [
        was.domains !== l.domains && `domains ${n(was.domains)} → ${n(l.domains)}`,
        was.urls !== l.urls && `URLs ${n(was.urls)} → ${n(l.urls)}`,
        was.expressions !== l.expressions && `expressions ${n(was.expressions)} → ${n(l.expressions)}`,
      ].filter(Boolean);
      detail.push(`${l.name}: ${parts.join(', ')}`);
    }
  }
  for (const l of old.values()) detail.push(`Removed list ${l.name} (${l.category}, ${n(l.domains)} domains)`);
  if (detail.length > MAX_LINES) lines.push(...detail.slice(0, MAX_LINES), `… and ${detail.length - MAX_LINES} more`);
  else lines.push(...detail);
  return lines;
};

export const recordListsImport = async (
  store: Store,
  ctx: RequestContext,
  at: string,
  input: { before: ListsManifest | null; after: ListsManifest; reason: string },
): Promise<string[]> => {
  const changes = listsDiff(input.before, input.after);
  await recordAudit(store, ctx, at, {
    action: 'filtering.lists_imported',
    resourceType: 'filtering_lists',
    resourceId: input.after.sourceName,
    detail: { reason: cleanReason(input.reason), source: input.after.source, changes },
  });
  return changes;
};

export const recordIllegalImport = async (
  store: Store,
  ctx: RequestContext,
  at: string,
  input: { result: IllegalImportResult; reason: string },
): Promise<void> => {
  const e = input.result.entries;
  await recordAudit(store, ctx, at, {
    action: 'filtering.illegal_list_imported',
    resourceType: 'filtering_lists',
    resourceId: input.result.kind,
    // Counts only: the entries of an illegal-content list are never written anywhere else.
    detail: {
      reason: cleanReason(input.reason),
      changes: [`${input.result.kind.toUpperCase()} list replaced: ${n(e.plain)} URLs, ${n(e.sha256)} SHA-256, ${n(e.md5)} MD5 entries`],
    },
  });
};
