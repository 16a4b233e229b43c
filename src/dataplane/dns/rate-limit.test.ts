/**
 * The per-client token buckets: the rate and burst, the bound on clients held, and which client
 * is forgotten first (the one idle longest, to within `reorderMs`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRateLimiter } from './rate-limit.ts';

describe('rate limiter', () => {
  it('allows the burst, then the rate', () => {
    const l = createRateLimiter({ perSecond: 10, burst: 5 });
    const allowed = (n: number, at: number) => Array.from({ length: n }, () => l.allow('10.0.0.1', at)).filter(Boolean).length;
    assert.equal(allowed(8, 0), 5);
    assert.equal(allowed(8, 500), 5, 'half a second refills five');
    assert.equal(allowed(8, 600), 1);
    assert.equal(createRateLimiter({ perSecond: 0, burst: 0 }).allow('x', 0), true, '0: no limit');
  });

  it('holds at most maxClients, forgetting the client idle longest', () => {
    const l = createRateLimiter({ perSecond: 1, burst: 2, maxClients: 3, reorderMs: 1000 });
    for (const c of ['a', 'b', 'c']) assert.equal(l.allow(c, 0), true);
    assert.equal(l.allow('a', 2000), true); // a seen again: now the youngest
    assert.equal(l.allow('a', 2000), true);
    assert.equal(l.allow('a', 2000), false, 'a has used its burst');
    assert.equal(l.allow('d', 2001), true); // forgets b, idle longest
    assert.equal(l.clients, 3);
    assert.equal(l.allow('a', 2001), false, 'a was kept, with its empty bucket');
    assert.equal(l.allow('e', 2002), true); // forgets c
    assert.equal(l.clients, 3);
    assert.equal(l.allow('a', 2002), false, 'a still kept');
    assert.equal(l.allow('f', 2003), true); // now a is the oldest it has moved
    assert.equal(l.allow('a', 2003), true, 'a was forgotten: a fresh bucket');
  });

  it('holds the bound under many clients', () => {
    const l = createRateLimiter({ perSecond: 100, burst: 100, maxClients: 1000 });
    for (let i = 0; i < 50_000; i++) l.allow(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i);
    assert.equal(l.clients, 1000);
  });
});
