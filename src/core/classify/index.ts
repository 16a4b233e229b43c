/**
 * @module core/classify — the classification index: which lists hold a host or URL. Build it from
 * source lists, save and load it as a snapshot, normalise hosts and URLs before asking it.
 */
export type * from './types.ts';
export { buildClassifier, type BuildOptions } from './build-classifier.ts';
export { loadClassifierSnapshot, ClassifierSnapshotError } from './snapshot.ts';
export { CompactClassifier, URL_SPECIFICITY_BASE, IP_SPECIFICITY, EXPRESSION_SPECIFICITY } from './domain-index.ts';
export { ReferenceClassifier } from './reference-classifier.ts';
export { normaliseHost, splitUrl, canonicalPath, isIpv4Literal, type SplitUrl } from './normalise-host.ts';
