/**
 * @module core/classify — the classification index: which lists hold a host or URL.
 *
 * - `buildClassifier(lists)` hashes every entry into two sorted hash tables in typed arrays
 *   (domain-index.ts, sorted-table.ts): ~9.4 bytes a domain, no strings; a host and all its
 *   parent domains are answered in one pass over its characters (key-hash.ts).
 * - `toSnapshot()` / `loadClassifierSnapshot(bytes)`: the same tables as one checksummed buffer,
 *   loaded as typed-array views (snapshot-writer.ts, snapshot.ts).
 * - Swapping in new lists: load the new snapshot, swap the one reference the decision path reads,
 *   drop the old (build-classifier.ts says why this never doubles memory).
 * - `normaliseHost` / `splitUrl`: everything is normalised before it is asked.
 * - `ReferenceClassifier`: the same contract over plain Maps, the oracle of the tests.
 */
export type * from './types.ts';
export { buildClassifier, type BuildOptions } from './build-classifier.ts';
export { loadClassifierSnapshot, ClassifierSnapshotError } from './snapshot.ts';
export { CompactClassifier, URL_SPECIFICITY_BASE, IP_SPECIFICITY, EXPRESSION_SPECIFICITY } from './domain-index.ts';
export { ReferenceClassifier } from './reference-classifier.ts';
export { normaliseHost, splitUrl, canonicalPath, isIpv4Literal, type SplitUrl } from './normalise-host.ts';
