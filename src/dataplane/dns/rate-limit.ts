/**
 * Per-client query rate limits: a token bucket per address, in a bounded map (the oldest idle
 * clients are forgotten first), so a flood from one device cannot starve the rest of a school.
 *
 * A bucket is updated in place; it moves to the young end of the map (a delete and a set) only
 * when it was last moved more than `reorderMs` ago, not on every query (decision 0010). The map's
 * order is then "last seen" to within that much, which is all the eviction of idle clients needs.
 */
export interface RateLimiter {
  /** Whether this client may have one more query now. */
  allow(client: string, nowMs: number): boolean;
  readonly clients: number;
}

interface Bucket {
  tokens: number;
  at: number;
  /** When it last moved to the young end of the map. */
  movedAt: number;
}

export const createRateLimiter = (options: { perSecond: number; burst: number; maxClients?: number; reorderMs?: number }): RateLimiter => {
  const { perSecond, burst } = options;
  const maxClients = options.maxClients ?? 100_000;
  const reorderMs = options.reorderMs ?? 1000;
  // Insertion order is (coarse) refresh order: a Map re-set moves the key to the end.
  const buckets = new Map<string, Bucket>();
  return {
    allow(client, nowMs) {
      if (perSecond <= 0) return true;
      let b = buckets.get(client);
      if (b === undefined) {
        if (buckets.size >= maxClients) {
          const oldest = buckets.keys().next();
          if (!oldest.done) buckets.delete(oldest.value);
        }
        b = { tokens: burst, at: nowMs, movedAt: nowMs };
        buckets.set(client, b);
      } else {
        b.tokens = Math.min(burst, b.tokens + ((nowMs - b.at) / 1000) * perSecond);
        b.at = nowMs;
        if (nowMs - b.movedAt >= reorderMs) {
          b.movedAt = nowMs;
          buckets.delete(client);
          buckets.set(client, b);
        }
      }
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    get clients() {
      return buckets.size;
    },
  };
};
