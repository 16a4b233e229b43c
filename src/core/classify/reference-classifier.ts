/**
 * The same contract as the compact index, written to be obviously correct rather than small or
 * fast: strings in Maps, parent domains by slicing. Tests use it as the oracle for the index; it
 * shares only the entry and URL normalising (normalise-host.ts), which has tests of its own.
 */
import type { Classifier, ListMatch, MatchKind, SourceList } from './types.ts';
import { canonicalPath, normaliseDomainEntry, normaliseUrlEntry, splitUrl, stripWww } from './normalise-host.ts';
import { compileExpression, expressionSubject, isExpressionLine } from './expressions.ts';
import { EXPRESSION_SPECIFICITY, IP_SPECIFICITY, URL_SPECIFICITY_BASE } from './domain-index.ts';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const add = (map: Map<string, Set<number>>, key: string, list: number) => {
  const lists = map.get(key) ?? new Set<number>();
  lists.add(list);
  map.set(key, lists);
};

const matches = (lists: Iterable<number>, kind: MatchKind, specificity: number): ListMatch[] =>
  [...lists].sort((a, b) => a - b).map((list) => ({ list, kind, specificity }));

export class ReferenceClassifier implements Classifier {
  readonly listNames: readonly string[];
  private readonly domains = new Map<string, Set<number>>();
  private readonly ips = new Map<string, Set<number>>();
  private readonly urls = new Map<string, Set<number>>();
  private readonly expressions: { list: number; re: RegExp }[] = [];

  constructor(lists: readonly SourceList[]) {
    this.listNames = lists.map((l) => l.name);
    lists.forEach((list, l) => {
      for (const line of list.domains) {
        const host = normaliseDomainEntry(line);
        if (host) add(IPV4.test(host) ? this.ips : this.domains, host, l);
      }
      for (const line of list.urls) {
        const entry = normaliseUrlEntry(line);
        if (entry) add(this.urls, entry.host + entry.path, l);
      }
      for (const line of list.expressions) {
        const re = isExpressionLine(line) ? compileExpression(line.trim()) : null;
        if (re instanceof RegExp) this.expressions.push({ list: l, re });
      }
    });
  }

  get domainCount(): number {
    return this.domains.size + this.ips.size;
  }

  matchHost(rawHost: string): readonly ListMatch[] {
    const host = rawHost.replace(/[A-Z]/g, (c) => c.toLowerCase());
    if (IPV4.test(host)) {
      const lists = this.ips.get(host);
      return lists ? matches(lists, 'ip', IP_SPECIFICITY) : [];
    }
    // The host itself, then each parent: what follows every dot, longest first.
    const candidates = [host];
    for (let i = host.indexOf('.'); i >= 0; i = host.indexOf('.', i + 1)) candidates.push(host.slice(i + 1));
    for (const candidate of candidates) {
      const lists = this.domains.get(candidate);
      if (lists) return matches(lists, 'domain', candidate.split('.').length);
    }
    return [];
  }

  matchUrl(url: string): readonly ListMatch[] {
    const { host, path } = splitUrl(url);
    if (host === null) return [];
    const canonical = canonicalPath(path);
    const bare = stripWww(host);
    // Prefixes of the path that end where a segment, the query or a parameter begins, or at its end.
    const ends = [0];
    for (let i = 0; i < canonical.length; i++) if ('/?&'.includes(canonical[i]!)) ends.push(i);
    ends.push(canonical.length);
    for (const end of ends.sort((a, b) => b - a)) {
      const lists = this.urls.get(bare + canonical.slice(0, end));
      if (lists) return matches(lists, 'url', URL_SPECIFICITY_BASE + end);
    }
    const byHost = this.matchHost(host);
    if (byHost.length > 0) return byHost;
    const subject = expressionSubject(host + canonical);
    const hit = new Set(this.expressions.filter((e) => e.re.test(subject)).map((e) => e.list));
    return matches(hit, 'expression', EXPRESSION_SPECIFICITY);
  }

  toSnapshot(): Uint8Array {
    throw new Error('the reference classifier has no snapshot form');
  }
}
