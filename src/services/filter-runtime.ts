/**
 * What answers "this person wants this site: what happens?" inside a Haven process: the category
 * index and illegal tier (loaded once, swapped whole on reload) and each school's compiled
 * policy (compiled on first use, recompiled after a change). The data plane and the API's
 * "check a site" both ask it, so a policy change is live as soon as it is saved.
 *
 * `checkNow` remembers its answers per school (decision 0010): 85 % of DNS questions repeat, and
 * classifying and deciding cost more than a map look-up. The memo belongs to one compiled policy
 * and one classification bundle, so a policy change, an override saved or ended early, or a list
 * import starts a new one. Time is the other input a decision has: a memo serves only the span
 * in which no decision can change — until the next start or end of a teacher override and, when
 * a rule has a schedule, to the end of the current minute (schedules are whole minutes of local
 * time, and zone offsets are whole minutes). Within it, entries are keyed by the person (the
 * directory's object, which a refresh replaces), the place, the client address when a rule has
 * address ranges, the circumvention fallback and the name.
 */
import {
  buildClassifier,
  compilePolicy,
  createClassificationEngine,
  createIllegalTier,
  decide,
  DEFAULT_ILLEGAL_CANARY,
  type ClassificationEngine,
  type ClassifiedInput,
  type CompiledPolicy,
  type Decision,
  type FilterPolicy,
  type IllegalTier,
  type RequestPerson,
} from '../core/index.ts';
import type { ListsManifest } from './list-service.ts';

export interface ClassificationBundle {
  engine: ClassificationEngine;
  illegal: IllegalTier;
  /** What the index was built from (null: no lists imported yet). */
  manifest: ListsManifest | null;
}

/** With no lists imported: nothing is categorised, and the illegal tier holds its canary. */
export const emptyClassification = (
  illegal: IllegalTier = createIllegalTier([], { canaries: [DEFAULT_ILLEGAL_CANARY] }),
): ClassificationBundle => {
  return { engine: createClassificationEngine({ classifier: buildClassifier([]), listCategories: [], illegal }), illegal, manifest: null };
};

export interface CheckRequest {
  /** A host or URL as typed. */
  site: string;
  at: Date;
  person: RequestPerson | null;
  clientIp?: string;
  place?: string;
  /** Category to use when no list knows the host (Haven's own circumvention hosts, say). */
  fallback?: { category: string; source: string };
}

export interface CheckResult {
  classification: ClassifiedInput;
  /** null when the input has no usable host. */
  decision: Decision | null;
}

export interface FilterRuntime {
  classification(): Promise<ClassificationBundle>;
  /** Loads the index and tier again and swaps them in whole; the old ones serve until then. */
  reloadClassification(): Promise<ClassificationBundle>;
  policyFor(schoolId: string): Promise<CompiledPolicy>;
  /** Forget a school's compiled policy (or every school's), so the next decision uses the saved one. */
  invalidate(schoolId?: string): void;
  check(schoolId: string, request: CheckRequest): Promise<CheckResult>;
  /**
   * The same answer without waiting, for the data plane's hot path: null only until the index
   * and the school's policy have first loaded (the caller then awaits `check`). After a change,
   * the previous compiled policy answers for the few milliseconds the new one takes to compile.
   */
  checkNow(schoolId: string, request: CheckRequest): CheckResult | null;
  /**
   * An object that stays the same exactly while every `checkNow` answer for this requester (person,
   * place, address) at this time stays the same: the data plane keys what it derives from
   * decisions (a cached answer's check) by it. null when nothing can be promised (not ready yet).
   */
  decisionScope(schoolId: string, request: CheckRequest): object | null;
}

const decideWith = (bundle: ClassificationBundle, policy: CompiledPolicy, request: CheckRequest): CheckResult => {
  let classified = bundle.engine.classify(request.site);
  if (request.fallback !== undefined && classified.category === null && classified.host !== null) {
    classified = { ...classified, category: request.fallback.category, source: request.fallback.source };
  }
  if (classified.host === null) return { classification: classified, decision: null };
  const decision = decide(
    policy,
    {
      host: classified.host,
      ...(classified.url !== null && { url: classified.url }),
      at: request.at,
      person: request.person,
      ...(request.clientIp !== undefined && { clientIp: request.clientIp }),
      ...(request.place !== undefined && { site: request.place }),
    },
    classified,
  );
  return { classification: classified, decision };
};

/** Entries a school's memo holds before it starts again (bounds memory under a flood of new names). */
const MEMO_MAX_ENTRIES = 50_000;
const MINUTE_MS = 60_000;

type Scope = Map<string, CheckResult>;

interface Memo {
  policy: CompiledPolicy;
  bundle: ClassificationBundle;
  /** The span of request times it answers for: [from, until). */
  from: number;
  until: number;
  /** A rule names address ranges: the client address is part of the key. */
  byAddress: boolean;
  /** By person object (null: guests), then by place/address/fallback. */
  people: WeakMap<object, Map<string, Scope>>;
  guests: Map<string, Scope>;
  size: number;
}

const newMemo = (policy: CompiledPolicy, bundle: ClassificationBundle, ms: number): Memo => {
  let from = -Infinity;
  let until = Infinity;
  if (policy.rules.some((r) => r.schedule !== null)) {
    from = Math.floor(ms / MINUTE_MS) * MINUTE_MS;
    until = from + MINUTE_MS;
  }
  for (const o of policy.overrides) {
    for (const edge of [o.startMs, o.endMs]) {
      if (edge <= ms) from = Math.max(from, edge);
      else until = Math.min(until, edge);
    }
  }
  return {
    policy,
    bundle,
    from,
    until,
    byAddress: policy.rules.some((r) => r.cidrs.length > 0),
    people: new WeakMap(),
    guests: new Map(),
    size: 0,
  };
};

export const createFilterRuntime = (deps: {
  loadClassification: () => Promise<ClassificationBundle>;
  effectivePolicy: (schoolId: string) => Promise<FilterPolicy>;
}): FilterRuntime => {
  let bundle: Promise<ClassificationBundle> | null = null;
  let readyBundle: ClassificationBundle | null = null;
  const compiled = new Map<string, Promise<CompiledPolicy>>();
  const ready = new Map<string, CompiledPolicy>();
  const memos = new Map<string, Memo>();

  /** The scope (name → answer) for this requester, in a memo valid now; null when time is no number. */
  const scopeFor = (schoolId: string, policy: CompiledPolicy, b: ClassificationBundle, request: CheckRequest): Scope | null => {
    const ms = request.at.getTime();
    if (!Number.isFinite(ms)) return null;
    let memo = memos.get(schoolId);
    if (
      memo === undefined ||
      memo.policy !== policy ||
      memo.bundle !== b ||
      ms < memo.from ||
      ms >= memo.until ||
      memo.size >= MEMO_MAX_ENTRIES
    ) {
      memo = newMemo(policy, b, ms);
      memos.set(schoolId, memo);
    }
    let byContext: Map<string, Scope> | undefined;
    if (request.person === null) byContext = memo.guests;
    else {
      byContext = memo.people.get(request.person);
      if (byContext === undefined) {
        byContext = new Map();
        memo.people.set(request.person, byContext);
      }
    }
    const context =
      request.place === undefined && !memo.byAddress ? '' : `${request.place ?? ''} ${memo.byAddress ? (request.clientIp ?? '') : ''}`;
    let scope = byContext.get(context);
    if (scope === undefined) {
      scope = new Map();
      byContext.set(context, scope);
    }
    return scope;
  };

  const classification = () =>
    (bundle ??= deps.loadClassification().then(
      (b) => (readyBundle = b),
      (err: unknown) => {
        bundle = null; // try again on the next request
        throw err;
      },
    ));
  const policyFor = (schoolId: string) => {
    let p = compiled.get(schoolId);
    if (!p) {
      p = deps.effectivePolicy(schoolId).then((policy) => {
        const c = compilePolicy(policy);
        // Only the newest compile may replace what serves.
        if (compiled.get(schoolId) === p) ready.set(schoolId, c);
        return c;
      });
      // A failed compile is not cached: the next request tries again.
      p.catch(() => {
        if (compiled.get(schoolId) === p) compiled.delete(schoolId);
      });
      compiled.set(schoolId, p);
    }
    return p;
  };

  return {
    classification,
    async reloadClassification() {
      const next = await deps.loadClassification();
      bundle = Promise.resolve(next);
      readyBundle = next;
      return next;
    },
    policyFor,
    invalidate(schoolId) {
      if (schoolId === undefined) compiled.clear();
      else compiled.delete(schoolId);
    },
    async check(schoolId, request) {
      const [b, policy] = await Promise.all([classification(), policyFor(schoolId)]);
      return decideWith(b, policy, request);
    },
    checkNow(schoolId, request) {
      if (!compiled.has(schoolId)) void policyFor(schoolId).catch(() => undefined);
      const policy = ready.get(schoolId);
      if (readyBundle === null) void classification().catch(() => undefined);
      if (readyBundle === null || policy === undefined) return null;
      const scope = scopeFor(schoolId, policy, readyBundle, request);
      if (scope === null) return decideWith(readyBundle, policy, request);
      const key = request.fallback === undefined ? request.site : `${request.fallback.category} ${request.fallback.source} ${request.site}`;
      let result = scope.get(key);
      if (result === undefined) {
        result = decideWith(readyBundle, policy, request);
        scope.set(key, result);
        memos.get(schoolId)!.size++;
      }
      return result;
    },
    decisionScope(schoolId, request) {
      const policy = ready.get(schoolId);
      if (readyBundle === null || policy === undefined) return null;
      return scopeFor(schoolId, policy, readyBundle, request);
    },
  };
};
