/**
 * The category map: which source lists feed which Haven category (data/category-map.json,
 * documented in docs/category-map.md). A rule names a list by its path in the tree ("ut1/adult",
 * "extra/sinfonietta/gore"); a leading "*" segment matches any one source folder, so "*\/adult"
 * covers "ut1/adult" and a differently named UT1 mirror alike. An exact rule beats a wildcard.
 * A rule with category null keeps a list out on purpose and must say why.
 */
import { invalid } from './errors.ts';

export interface CategoryMapRule {
  /** List path, '/'-separated; the first segment may be "*" (any one folder). */
  list: string;
  /** A Haven category id, or null: the list is deliberately not used. */
  category: string | null;
  /** Why a list is not used (required when category is null). */
  reason?: string;
  /** Anything a reader should know: traps, overlaps. */
  note?: string;
  /** Entries (domain, URL or expression, exactly as in the list) dropped on import: known misclassifications. */
  exclude?: readonly string[];
}

export interface CategoryMap {
  rules: readonly CategoryMapRule[];
}

export type ListCategory =
  | { kind: 'mapped'; category: string; rule: CategoryMapRule }
  | { kind: 'ignored'; reason: string; rule: CategoryMapRule }
  | { kind: 'unmapped' };

/**
 * Only the IWF/CTIRU tier (src/core/illegal-tier.ts) may put anything in "illegal": a category
 * list mapped there would become impossible to unblock, so the map refuses it.
 */
export const RESERVED_CATEGORIES: readonly string[] = ['illegal'];

const SEGMENT = /^[A-Za-z0-9_.-]+$/;
const CATEGORY_ID = /^[a-z][a-z0-9-]*$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates the parsed JSON of a category map; `categories`, when given, are the ids that exist. */
export const parseCategoryMap = (json: unknown, options: { categories?: readonly string[] } = {}): CategoryMap => {
  const problems: { path: string; message: string }[] = [];
  const fail = (path: string, message: string) => problems.push({ path, message });
  if (!isRecord(json) || !Array.isArray(json.rules)) throw invalid('The category map must be an object with a "rules" array');
  const rules: CategoryMapRule[] = [];
  const seen = new Set<string>();
  json.rules.forEach((raw: unknown, i) => {
    const at = `rules[${i}]`;
    if (!isRecord(raw)) return fail(at, 'must be an object');
    const { list, category, reason, note, exclude } = raw;
    for (const key of Object.keys(raw)) {
      if (!['list', 'category', 'reason', 'note', 'exclude'].includes(key)) fail(`${at}.${key}`, 'unknown field');
    }
    const validSegment = (seg: string, j: number) => (SEGMENT.test(seg) && seg !== '.' && seg !== '..') || (j === 0 && seg === '*');
    if (typeof list !== 'string' || !list.split('/').every(validSegment) || list === '*')
      return fail(`${at}.list`, 'must be a list path such as "ut1/adult" or "*/adult"');
    if (seen.has(list)) return fail(`${at}.list`, `"${list}" has two rules`);
    seen.add(list);
    if (category !== null && (typeof category !== 'string' || !CATEGORY_ID.test(category)))
      return fail(`${at}.category`, 'must be a category id (lower-case, hyphens) or null');
    if (typeof category === 'string' && RESERVED_CATEGORIES.includes(category))
      return fail(`${at}.category`, `"${category}" is reserved for the IWF/CTIRU tier; a category list cannot feed it`);
    if (typeof category === 'string' && options.categories && !options.categories.includes(category))
      return fail(`${at}.category`, `"${category}" is not a Haven category`);
    if (category === null && (typeof reason !== 'string' || reason.trim() === ''))
      return fail(`${at}.reason`, 'a list that is not used must say why');
    if (reason !== undefined && typeof reason !== 'string') return fail(`${at}.reason`, 'must be text');
    if (note !== undefined && typeof note !== 'string') return fail(`${at}.note`, 'must be text');
    if (exclude !== undefined && (!Array.isArray(exclude) || !exclude.every((e) => typeof e === 'string' && e.trim() !== '')))
      return fail(`${at}.exclude`, 'must be a list of entries');
    const rule: CategoryMapRule = { list, category: category };
    if (typeof reason === 'string') rule.reason = reason;
    if (typeof note === 'string') rule.note = note;
    if (Array.isArray(exclude)) rule.exclude = exclude as string[];
    rules.push(rule);
  });
  if (problems.length) throw invalid('The category map is not valid', problems);
  return { rules };
};

const matches = (pattern: string, listName: string): boolean => {
  if (!pattern.startsWith('*/')) return pattern === listName;
  const slash = listName.indexOf('/');
  return slash > 0 && listName.slice(slash + 1) === pattern.slice(2);
};

/** The rule for a list: an exact rule first, else a "*\/…" rule. */
export const findCategoryRule = (map: CategoryMap, listName: string): CategoryMapRule | undefined =>
  map.rules.find((r) => r.list === listName) ?? map.rules.find((r) => r.list.startsWith('*/') && matches(r.list, listName));

export const resolveListCategory = (map: CategoryMap, listName: string): ListCategory => {
  const rule = findCategoryRule(map, listName);
  if (!rule) return { kind: 'unmapped' };
  if (rule.category === null) return { kind: 'ignored', reason: rule.reason ?? '', rule };
  return { kind: 'mapped', category: rule.category, rule };
};

/** Category per list name (null: not mapped), e.g. for `Classifier.listNames`. */
export const categoriesForLists = (map: CategoryMap, listNames: readonly string[]): (string | null)[] =>
  listNames.map((name) => {
    const c = resolveListCategory(map, name);
    return c.kind === 'mapped' ? c.category : null;
  });

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown table in docs/category-map.md, rules sorted by category then list. */
export const categoryMapMarkdown = (map: CategoryMap): string => {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const bare = (r: CategoryMapRule) => r.list.replace(/^\*\//, '');
  // Categories A–Z, then the lists not used.
  const rows = [...map.rules].sort((a, b) => cmp(a.category ?? '\uffff', b.category ?? '\uffff') || cmp(bare(a), bare(b)));
  const lines = ['| List | Haven category | Notes |', '|---|---|---|'];
  for (const r of rows) {
    const notes = [
      r.category === null ? `not used: ${r.reason ?? ''}` : '',
      r.note ?? '',
      r.exclude?.length ? `excludes ${r.exclude.length} entr${r.exclude.length === 1 ? 'y' : 'ies'}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    lines.push(`| \`${r.list}\` | ${r.category === null ? '—' : `\`${r.category}\``} | ${cell(notes)} |`);
  }
  return lines.join('\n');
};

/** What to read from a list tree for this map: mapped lists only, without their excluded entries. */
export const listTreeFilters = (map: CategoryMap) => ({
  include: (name: string): boolean => resolveListCategory(map, name).kind === 'mapped',
  exclude: (name: string): ReadonlySet<string> | undefined => {
    const c = resolveListCategory(map, name);
    return c.kind === 'mapped' && c.rule.exclude?.length ? new Set(c.rule.exclude) : undefined;
  },
});
