/**
 * Per-client query rate limits: a token bucket per address, in a bounded map (the oldest idle
 * clients are forgotten first), so a flood from one device cannot starve the rest of a school.
 */
export interface RateLimiter {
  /** Whether this client may have one more query now. */
  allow(client: string, nowMs: number): boolean;
  readonly clients: number;
}

export const createRateLimiter = (options: { perSecond: number; burst: number; maxClients?: number }): RateLimiter => {
  const { perSecond, burst } = options;
  const maxClients = options.maxClients ?? 100_000;
  // Insertion order is refresh order: a Map re-set moves the key to the end.
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    allow(client, nowMs) {
      if (perSecond <= 0) return true;
      let b = buckets.get(client);
      if (b === undefined) {
        if (buckets.size >= maxClients) {
          const oldest = buckets.keys().next();
          if (!oldest.done) buckets.delete(oldest.value);
        }
        b = { tokens: burst, at: nowMs };
      } else {
        buckets.delete(client);
        b.tokens = Math.min(burst, b.tokens + ((nowMs - b.at) / 1000) * perSecond);
        b.at = nowMs;
      }
      buckets.set(client, b);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    get clients() {
      return buckets.size;
    },
  };
};
