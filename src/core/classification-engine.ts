/**
 * Classifies one host or URL: the illegal tier first (it always wins), then the category index
 * at its most specific matching level, mapped to Haven's categories. When several lists match at
 * that level, the category with the highest priority wins (security threats over curated
 * allow-lists over content lists) and its first list is named as the source.
 */
import type { Classifier } from './classify/types.ts';
import { normaliseHost, splitUrl } from './classify/index.ts';
import type { IllegalTier } from './illegal-tier.ts';
import { categoryById } from './policy/index.ts';
import type { ClassificationResult } from './policy/index.ts';

export interface ClassifiedInput extends ClassificationResult {
  /** The normalised host, or null when the input had no usable host. */
  host: string | null;
  /** The URL as given, when the input was more than a host. */
  url: string | null;
}

export interface ClassificationEngine {
  classify(input: string): ClassifiedInput;
}

const looksLikeUrl = (s: string): boolean => s.includes('/') || s.includes('?');

export const createClassificationEngine = (deps: {
  classifier: Classifier;
  /** Haven category for each of `classifier.listNames` (null: list not used). */
  listCategories: readonly (string | null)[];
  illegal: IllegalTier | null;
}): ClassificationEngine => {
  const { classifier, listCategories, illegal } = deps;
  const priorityOf = listCategories.map((c) => (c === null ? -1 : (categoryById(c)?.priority ?? 0)));
  return {
    classify(raw) {
      const input = raw.trim();
      const isUrl = looksLikeUrl(input);
      const host = isUrl ? splitUrl(input).host : normaliseHost(input);
      const url = isUrl ? input : null;
      if (host === null) return { host: null, url, category: null, source: null, illegal: false };
      const hit = illegal ? (url ? illegal.matchUrl(url) : illegal.matchHost(host)) : null;
      if (hit) return { host, url, category: 'illegal', source: hit.source, illegal: true };
      const matches = url ? classifier.matchUrl(url) : classifier.matchHost(host);
      let best = -1;
      for (const m of matches) {
        if (listCategories[m.list] == null) continue;
        if (best === -1 || priorityOf[m.list]! > priorityOf[best]!) best = m.list;
      }
      if (best === -1) return { host, url, category: null, source: null, illegal: false };
      return { host, url, category: listCategories[best]!, source: classifier.listNames[best]!, illegal: false };
    },
  };
};
