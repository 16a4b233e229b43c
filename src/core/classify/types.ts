/**
 * Contract of the classification index (issue 3). The index answers "which lists hold this host
 * or URL?" in well under a microsecond; mapping lists to Haven's categories and deciding what to
 * do are separate steps (category map, policy).
 */

/** One source list as loaded from a UT1/squidGuard tree: `ut1/adult` holds domains, urls, expressions. */
export interface SourceList {
  /** Path of the list's folder in the tree, '/'-separated: "ut1/adult", "extra/sinfonietta/gore". */
  name: string;
  /** Domains (each covers its subdomains) and IPv4 addresses (match IP-literal hosts exactly). */
  domains: readonly string[];
  /** `host/path` entries: the host (a leading "www." is ignored) and paths under /path at a segment boundary. */
  urls: readonly string[];
  /** squidGuard regular expressions over the whole URL. */
  expressions: readonly string[];
}

export type MatchKind = 'domain' | 'ip' | 'url' | 'expression';

export interface ListMatch {
  /** Index into `Classifier.listNames`. */
  list: number;
  kind: MatchKind;
  /**
   * How specific the match is; larger wins. 'domain': the entry's label count (1–127); 'ip': 4;
   * 'url': 1000 + the entry's path length (so a URL entry beats any domain); 'expression': 0.
   */
  specificity: number;
}

export interface Classifier {
  /** Names of the lists, in build order; ListMatch.list indexes this. */
  readonly listNames: readonly string[];
  /** Distinct domain/IP entries held. */
  readonly domainCount: number;
  /**
   * What building skipped and why (invalid entries, expressions that do not compile); absent or
   * empty when nothing was. Building never throws over bad list content.
   */
  readonly warnings?: readonly string[];
  /**
   * Lists holding the host at its MOST SPECIFIC matching level (walking parent domains from the
   * full host up): several lists when they hold the same entry, in list order. Empty when none.
   * An IPv4 literal host matches IP entries exactly and never domain suffixes. The host must
   * already be normalised (`normaliseHost`); ASCII case is folded anyway. The arrays returned are
   * frozen and shared: do not mutate them.
   */
  matchHost(host: string): readonly ListMatch[];
  /**
   * For a full URL (scheme optional): URL entries for its host and path (the longest entry path
   * ending at a segment boundary: "/path" covers "/path", "/path/…", "/path?…", not
   * "/pathology"; a leading "www." on either host is ignored), else the host's matches, else
   * expressions over "host/path?query" — the most specific level that matches, as above. A URL
   * without a usable host matches nothing.
   */
  matchUrl(url: string): readonly ListMatch[];
  /** A compact binary form that `loadClassifierSnapshot` turns back into an equal Classifier. */
  toSnapshot(): Uint8Array;
}
