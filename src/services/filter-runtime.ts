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
}

export const createFilterRuntime = (deps: {
  loadClassification: () => Promise<ClassificationBundle>;
  effectivePolicy: (schoolId: string) => Promise<FilterPolicy>;
}): FilterRuntime => {
  let bundle: Promise<ClassificationBundle> | null = null;
  const compiled = new Map<string, Promise<CompiledPolicy>>();

  const classification = () => (bundle ??= deps.loadClassification());
  const policyFor = (schoolId: string) => {
    let p = compiled.get(schoolId);
    if (!p) {
      p = deps.effectivePolicy(schoolId).then(compilePolicy);
      // A failed compile is not cached: the next request tries again.
      p.catch(() => compiled.delete(schoolId));
      compiled.set(schoolId, p);
    }
    return p;
  };

  return {
    classification,
    async reloadClassification() {
      const next = await deps.loadClassification();
      bundle = Promise.resolve(next);
      return next;
    },
    policyFor,
    invalidate(schoolId) {
      if (schoolId === undefined) compiled.clear();
      else compiled.delete(schoolId);
    },
    async check(schoolId, request) {
      const [{ engine }, policy] = await Promise.all([classification(), policyFor(schoolId)]);
      const classified = engine.classify(request.site);
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
    },
  };
};
