/**
 * What answers "this person wants this site: what happens?" inside a Haven process: the category
 * index and illegal tier (loaded once, swapped whole on reload) and each school's compiled
 * policy (compiled on first use, recompiled after a change). The data plane and the API's
 * "check a site" both ask it, so a policy change is live as soon as it is saved.
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

export const createFilterRuntime = (deps: {
  loadClassification: () => Promise<ClassificationBundle>;
  effectivePolicy: (schoolId: string) => Promise<FilterPolicy>;
}): FilterRuntime => {
  let bundle: Promise<ClassificationBundle> | null = null;
  let readyBundle: ClassificationBundle | null = null;
  const compiled = new Map<string, Promise<CompiledPolicy>>();
  const ready = new Map<string, CompiledPolicy>();

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
      return decideWith(readyBundle, policy, request);
    },
  };
};
