/**
 * Proxy dependencies for tests: real decisions (the fixture lists, the default trust policy and
 * the filter runtime) for a guest at one school, names under .test on loopback, and an event sink
 * that keeps what it is given.
 */
import { defaultTrustPolicy, resolvePolicy, type ClientIdentity, type EventSink, type FilterEvent } from '../src/core/index.ts';
import type { ProxyDeps } from '../src/dataplane/index.ts';
import { createFilterRuntime } from '../src/services/index.ts';
import { fixtureClassification } from './fixture-classification.ts';
import { loopbackLookup } from './proxy-origins.ts';

export const guestIdentity: ClientIdentity = {
  schoolId: 'school-1',
  person: null,
  personId: null,
  deviceId: null,
  place: null,
  via: 'default',
};

export const collectingSink = (): EventSink & { seen: FilterEvent[] } => {
  const seen: FilterEvent[] = [];
  return {
    seen,
    write: (e) => void seen.push(e),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    stats: () => ({ queued: 0, written: seen.length, spooled: 0, dropped: 0 }),
  };
};

export const fixtureProxyDeps = (events: EventSink, over: Partial<ProxyDeps> = {}): ProxyDeps => {
  const runtime = createFilterRuntime({
    loadClassification: () => Promise.resolve(fixtureClassification()),
    effectivePolicy: (schoolId) => Promise.resolve(resolvePolicy(defaultTrustPolicy(), { schoolId })),
  });
  return {
    identify: () => guestIdentity,
    decideNow: (s, r) => runtime.checkNow(s, r),
    decide: (s, r) => runtime.check(s, r),
    events,
    connectPorts: 'any',
    lookup: loopbackLookup,
    ...over,
  };
};
