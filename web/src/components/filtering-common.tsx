/**
 * Pieces the filtering screens share: how actions read and look, Haven's category names, errors
 * that carry a policy's problems, and saving with PUT (the one verb api.ts does not offer).
 */
import { ApiError, messageOf } from '../api.ts';
import { useSession } from '../session.tsx';
import type { FilterAction, FilterCategory, PolicyProblem, YoutubeMode } from '../types.ts';
import { useApi } from '../use-api.ts';

export const ACTION_LABELS: Record<FilterAction, string> = {
  allow: 'Allow',
  block: 'Block',
  warn: 'Warn',
  'allow-and-flag': 'Allow and flag',
};

export const ACTION_HINTS: Record<FilterAction, string> = {
  allow: 'open',
  block: 'blocked',
  warn: 'a warning the person may continue past (logged)',
  'allow-and-flag': 'open, and every visit is flagged for the DSL',
};

const ACTION_TONES: Record<FilterAction, string> = {
  allow: 'badge--success',
  block: 'badge--danger',
  warn: 'badge--warning',
  'allow-and-flag': 'badge--info',
};

export const YOUTUBE_LABELS: Record<YoutubeMode, string> = {
  off: 'Unrestricted',
  moderate: 'Moderate',
  strict: 'Strict',
};

export const actionLabel = (action: string): string => ACTION_LABELS[action as FilterAction] ?? action;

/** An action as a badge: the word carries the meaning, the colour only helps. */
export function ActionBadge({ action }: { action: string }) {
  const tone = ACTION_TONES[action as FilterAction] ?? '';
  return <span className={`badge action-badge ${tone}`}>{actionLabel(action)}</span>;
}

export const UNCATEGORISED = 'uncategorised';

/** "social-networks" → "Social networks", for ids the category list does not name. */
export const humanise = (id: string): string => {
  const s = id.replace(/[-_]+/g, ' ').trim();
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : id;
};

/** "key Stage 2 pupils" → "Key Stage 2 pupils" (profile labels are written to sit inside sentences). */
export const capitalise = (s: string): string => (s ? s.charAt(0).toUpperCase() + s.slice(1) : s);

export interface CategoryNames {
  /** Haven's categories, when the user may read them (empty otherwise). */
  categories: FilterCategory[];
  byId: Map<string, FilterCategory>;
  label: (id: string | null | undefined) => string;
  loading: boolean;
}

/**
 * Haven's category names. The list is readable by everyone who may make overrides; roles that
 * only read the policy (trust lead, DPO) fall back to readable ids.
 */
export const useCategoryNames = (schoolId: string | null): CategoryNames => {
  const { can } = useSession();
  const allowed = schoolId !== null && can('filter_override:read', schoolId);
  const { data, loading } = useApi<{ items: FilterCategory[] }>(allowed ? '/api/v1/filtering/categories' : null);
  const categories = data?.items ?? [];
  const byId = new Map(categories.map((c) => [c.id, c]));
  const label = (id: string | null | undefined): string => {
    if (!id) return 'None';
    if (id === UNCATEGORISED) return 'Sites no list knows';
    return byId.get(id)?.label ?? humanise(id);
  };
  return { categories, byId, label, loading };
};

/** "90 minutes" → "1 hour 30 minutes". */
export const formatMinutes = (minutes: number): string => {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const hours = h === 0 ? '' : `${h} ${h === 1 ? 'hour' : 'hours'}`;
  const mins = m === 0 ? '' : `${m} ${m === 1 ? 'minute' : 'minutes'}`;
  return [hours, mins].filter(Boolean).join(' ') || '0 minutes';
};

/** The problems a refused policy or override carries (details.problems), or a schema error's list. */
export const problemsOf = (error: unknown): PolicyProblem[] => {
  if (!(error instanceof ApiError)) return [];
  const d = error.details as { problems?: unknown } | unknown[] | null | undefined;
  const raw: unknown[] = Array.isArray(d) ? d : Array.isArray(d?.problems) ? d.problems : [];
  return raw
    .filter(
      (p): p is { path?: unknown; message: string; severity?: unknown } => !!p && typeof (p as { message?: unknown }).message === 'string',
    )
    .map((p) => ({
      path: typeof p.path === 'string' ? p.path.replace(/^\//, '').replace(/\//g, '.') : '',
      message: p.message,
      severity: p.severity === 'warning' ? 'warning' : 'error',
    }));
};

export const isConflict = (error: unknown): boolean => error instanceof ApiError && error.code === 'CONFLICT';

/**
 * An error from saving filtering: the server's message, every problem it named, and for a
 * conflict (someone saved in between) what to do about it.
 */
export function FilteringError({ error, onReload }: { error: unknown; onReload?: () => void }) {
  if (!error) return null;
  const problems = problemsOf(error);
  const conflict = isConflict(error);
  return (
    <div className="alert alert--error" role="alert">
      <p>{typeof error === 'string' ? error : messageOf(error)}</p>
      {problems.length > 0 ? (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>
              {p.path ? <span className="mono">{p.path}: </span> : null}
              {p.message}
            </li>
          ))}
        </ul>
      ) : null}
      {conflict ? (
        <>
          <p>Someone else saved a change while you were working. Reload to see their change, then make yours again.</p>
          {onReload ? (
            <p>
              <button type="button" className="button button--secondary button--small" onClick={onReload}>
                Reload the policy
              </button>
            </p>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

/** A list of warnings the server accepted a change with. */
export function WarningList({ warnings }: { warnings: readonly PolicyProblem[] }) {
  if (warnings.length === 0) return null;
  return (
    <div className="alert alert--warning">
      <p className="alert-title">Saved with {warnings.length === 1 ? 'a warning' : `${warnings.length} warnings`}</p>
      <ul>
        {warnings.map((w, i) => (
          <li key={i}>
            {w.path ? <span className="mono">{w.path}: </span> : null}
            {w.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
