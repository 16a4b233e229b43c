/**
 * A tiny Classifier for the list service's tests, independent of the compact index: domains
 * only, a parent walk, and a JSON "snapshot". Enough to prove which lists went in and what an
 * import swapped in or left alone.
 */
import type { Classifier, ListMatch, SourceList } from '../src/core/index.ts';

interface StubData {
  names: string[];
  domains: string[][];
}

const fromData = (data: StubData): Classifier => {
  const byDomain = new Map<string, number[]>();
  data.domains.forEach((ds, list) => {
    for (const d of ds) byDomain.set(d, [...(byDomain.get(d) ?? []), list]);
  });
  const matchHost = (host: string): readonly ListMatch[] => {
    const labels = host.split('.');
    for (let i = 0; i < labels.length; i++) {
      const lists = byDomain.get(labels.slice(i).join('.'));
      if (lists) return lists.map((list) => ({ list, kind: 'domain' as const, specificity: labels.length - i }));
    }
    return [];
  };
  return {
    listNames: data.names,
    domainCount: byDomain.size,
    matchHost,
    matchUrl: (url: string) => matchHost(url.replace(/^[a-z]+:\/\//, '').split(/[/?#:]/)[0]!),
    toSnapshot: () => new TextEncoder().encode(JSON.stringify(data)),
  };
};

export const stubBuildClassifier = (lists: readonly SourceList[]): Classifier =>
  fromData({ names: lists.map((l) => l.name), domains: lists.map((l) => [...l.domains]) });

export const stubLoadClassifierSnapshot = (bytes: Uint8Array): Classifier =>
  fromData(JSON.parse(new TextDecoder().decode(bytes)) as StubData);

/** The list names a classifier gives for a host ("-" when none). */
export const sourcesOf = (c: Classifier, host: string): string =>
  c
    .matchHost(host)
    .map((m) => c.listNames[m.list])
    .join(',') || '-';
