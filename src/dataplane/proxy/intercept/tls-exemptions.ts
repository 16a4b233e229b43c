/**
 * What TLS interception must never decrypt (data/tls-exemptions.json, docs/tls-interception.md):
 * Haven categories (help services by default), named host groups (banking and payments, health,
 * government, certificate-pinned apps) and a school's own hosts. An exempt connection is tunnelled
 * untouched; its host is still filtered and logged from CONNECT and SNI.
 *
 * A host entry covers the name and every name under it, like the category lists. Matching walks
 * the host's parent names through one Map, so it costs a few hash lookups.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isCategoryId } from '../../../core/index.ts';

export interface TlsExemptionGroup {
  /** Short stable id a setting names: "banking". */
  readonly id: string;
  readonly name: string;
  /** Why it is never decrypted: shown to IT staff and quoted in the DPIA notes. */
  readonly reason: string;
  readonly hosts: readonly string[];
  readonly source?: string;
}

export interface TlsExemptionData {
  readonly version: number;
  /** Haven category ids never decrypted unless a school's settings say otherwise. */
  readonly neverInspectCategories: readonly string[];
  readonly groups: readonly TlsExemptionGroup[];
}

/** What a school (or the trust) chose; absent fields take the data file's defaults. */
export interface InspectionChoices {
  /** Haven category ids and group ids never decrypted. Default: the file's categories and every group. */
  readonly neverInspect?: readonly string[];
  /** More hosts never decrypted (each covers its subdomains). */
  readonly neverInspectHosts?: readonly string[];
}

/** Compiled settings for `shouldInspect`: build once per school, ask per connection. */
export interface InspectionSettings {
  readonly categories: ReadonlySet<string>;
  /** host → why (a group or the school's own list). */
  readonly hosts: ReadonlyMap<string, InspectionExemption>;
}

export interface InspectionExemption {
  /** "category", a group id, or "school" for the school's own hosts. */
  readonly kind: 'category' | 'group' | 'school';
  /** The category id, group id or matched host. */
  readonly id: string;
  readonly reason: string;
}

const HOST = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const GROUP_ID = /^[a-z][a-z0-9-]*$/;
const HOST_HINT = 'must be a lower-case host name without a wildcard or trailing dot, such as "nhs.uk" (it covers its subdomains)';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

type Problem = { path: string; message: string };

/** A data-file problem, with every problem found (not just the first). */
export class TlsExemptionsError extends Error {
  readonly problems: readonly Problem[];
  constructor(message: string, problems: readonly Problem[]) {
    super(message);
    this.name = 'TlsExemptionsError';
    this.problems = problems;
  }
}

const summarise = (what: string, problems: readonly Problem[]): string => {
  const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  return `${what} is not valid: ${shown.join('; ')}${more}`;
};

/** Validates the parsed JSON of data/tls-exemptions.json, naming every problem. */
export const parseTlsExemptions = (json: unknown, what = 'The TLS exemptions file'): TlsExemptionData => {
  const problems: Problem[] = [];
  const fail = (path: string, message: string) => void problems.push({ path, message });
  if (!isRecord(json)) throw new TlsExemptionsError(`${what} must be a JSON object`, []);
  for (const key of Object.keys(json))
    if (!['description', 'version', 'neverInspectCategories', 'groups'].includes(key)) fail(key, 'unknown field');
  if (json.version !== 1) fail('version', 'must be 1');

  const categories: string[] = [];
  if (!Array.isArray(json.neverInspectCategories)) fail('neverInspectCategories', 'must be a list of Haven category ids');
  else
    json.neverInspectCategories.forEach((c: unknown, i) => {
      if (typeof c !== 'string' || !isCategoryId(c))
        fail(`neverInspectCategories[${i}]`, `${JSON.stringify(c)} is not a Haven category id`);
      else if (c === 'illegal') fail(`neverInspectCategories[${i}]`, '"illegal" is always blocked and never needs decrypting');
      else categories.push(c);
    });

  const groups: TlsExemptionGroup[] = [];
  const ids = new Set<string>();
  const owner = new Map<string, string>();
  if (!Array.isArray(json.groups)) fail('groups', 'must be a list of { id, name, reason, hosts }');
  else
    json.groups.forEach((raw: unknown, i) => {
      const at = `groups[${i}]`;
      if (!isRecord(raw)) return fail(at, 'must be an object');
      for (const key of Object.keys(raw))
        if (!['id', 'name', 'reason', 'hosts', 'source', 'note'].includes(key)) fail(`${at}.${key}`, 'unknown field');
      const { id, name, reason, hosts, source } = raw;
      let ok = true;
      if (typeof id !== 'string' || !GROUP_ID.test(id)) {
        fail(`${at}.id`, 'must be a short lower-case id such as "banking"');
        ok = false;
      } else if (ids.has(id) || isCategoryId(id)) {
        fail(`${at}.id`, `"${id}" is already used (by another group or a Haven category)`);
        ok = false;
      }
      if (!isText(name)) {
        fail(`${at}.name`, 'must say what the group is');
        ok = false;
      }
      if (!isText(reason)) {
        fail(`${at}.reason`, 'must say why these hosts are never decrypted');
        ok = false;
      }
      if (source !== undefined && !(typeof source === 'string' && /^https:\/\/\S+$/.test(source)))
        fail(`${at}.source`, 'must be an https:// address');
      const good: string[] = [];
      if (!Array.isArray(hosts) || hosts.length === 0) {
        fail(`${at}.hosts`, 'must be a non-empty list of host names');
        ok = false;
      } else
        hosts.forEach((h: unknown, j) => {
          if (typeof h !== 'string' || !HOST.test(h)) return fail(`${at}.hosts[${j}]`, `${JSON.stringify(h)} ${HOST_HINT}`);
          const first = owner.get(h);
          if (first !== undefined) return fail(`${at}.hosts[${j}]`, `"${h}" is already listed at ${first}`);
          owner.set(h, `${at}.hosts[${j}]`);
          good.push(h);
        });
      if (!ok) return;
      ids.add(id as string);
      groups.push({
        id: id as string,
        name: name as string,
        reason: reason as string,
        hosts: good,
        ...(typeof source === 'string' ? { source } : {}),
      });
    });

  if (problems.length) throw new TlsExemptionsError(summarise(what, problems), problems);
  return { version: 1, neverInspectCategories: categories, groups };
};

/** Reads and validates the file (at start-up: a bad file stops the proxy with the problems named). */
export const loadTlsExemptions = (file: string): TlsExemptionData => {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TlsExemptionsError(`Cannot read the TLS exemptions file ${file}: ${e instanceof Error ? e.message : String(e)}`, []);
  }
  return parseTlsExemptions(json, `The TLS exemptions file ${file}`);
};

/** Lower case, no trailing dot, IPv6 without brackets. */
const hostKey = (host: string): string => {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.endsWith('.') ? h.slice(0, -1) : h;
};

/**
 * Compiles a school's choices against the data file. Unknown ids and bad hosts are refused (a
 * typo must not quietly decrypt banking).
 */
export const compileInspectionSettings = (data: TlsExemptionData, choices: InspectionChoices = {}): InspectionSettings => {
  const byId = new Map(data.groups.map((g) => [g.id, g]));
  const chosen = choices.neverInspect ?? [...data.neverInspectCategories, ...data.groups.map((g) => g.id)];
  const categories = new Set<string>();
  const hosts = new Map<string, InspectionExemption>();
  const problems: Problem[] = [];
  chosen.forEach((id, i) => {
    const group = byId.get(id);
    if (group) {
      const exemption: InspectionExemption = Object.freeze({ kind: 'group', id: group.id, reason: group.reason });
      for (const h of group.hosts) if (!hosts.has(h)) hosts.set(h, exemption);
    } else if (isCategoryId(id) && id !== 'illegal') categories.add(id);
    else
      problems.push({
        path: `neverInspect[${i}]`,
        message: `"${id}" is neither a Haven category nor a group (${data.groups.map((g) => g.id).join(', ')})`,
      });
  });
  (choices.neverInspectHosts ?? []).forEach((raw, i) => {
    const h = hostKey(raw);
    if (!HOST.test(h) && isIP(h) === 0)
      return problems.push({ path: `neverInspectHosts[${i}]`, message: `${JSON.stringify(raw)} ${HOST_HINT}` });
    hosts.set(h, Object.freeze({ kind: 'school', id: h, reason: 'on the school’s never-decrypt list' }));
  });
  if (problems.length) throw new TlsExemptionsError(summarise('The TLS inspection settings', problems), problems);
  return { categories, hosts };
};

/** Why this connection must not be decrypted, or null when it may be. */
export const inspectionExemption = (host: string, category: string | null, settings: InspectionSettings): InspectionExemption | null => {
  if (category !== null && settings.categories.has(category))
    return { kind: 'category', id: category, reason: `the ${category} category is never decrypted` };
  let h = hostKey(host);
  if (isIP(h) !== 0) return settings.hosts.get(h) ?? null;
  // The name, then each parent: "www.online.hsbc.co.uk" → "online.hsbc.co.uk" → "hsbc.co.uk" …
  for (;;) {
    const hit = settings.hosts.get(h);
    if (hit) return hit;
    const dot = h.indexOf('.');
    if (dot < 0) return null;
    h = h.slice(dot + 1);
  }
};

/**
 * Whether the proxy may decrypt a connection to `host` classified as `category` (a Haven
 * category id, or null when unlisted). Interception being switched on at all is the caller's
 * check; this says only what is exempt.
 */
export const shouldInspect = (host: string, category: string | null, settings: InspectionSettings): boolean =>
  inspectionExemption(host, category, settings) === null;
