import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { analyseResponse, cacheKeyFor, createDnsCache, renderHit, skipName } from './cache.ts';
import {
  aRecord,
  buildQuery,
  buildResponse,
  cnameRecord,
  optRecord,
  RCODE,
  readResponse,
  soaRecord,
  TYPE,
  type TestRecord,
} from './test-upstream.ts';

const T0 = 1_800_000_000_000;
const manualClock = (start = T0) => {
  let now = start;
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
};

const q = buildQuery('www.example.com', TYPE.A, { id: 0x0101 });
const positive = (ttl: number, extra: TestRecord[] = []) =>
  buildResponse(q, { answers: [...extra, aRecord('www.example.com', '192.0.2.1', ttl)] });

const LIMITS = { minTtl: 0, maxTtl: 86_400, maxNegativeTtl: 300 };

describe('dns cache: positive answers and TTLs', () => {
  it('serves a fresh hit until the TTL runs out, then stale for the bounded window, then nothing', () => {
    const clock = manualClock();
    const cache = createDnsCache({ clock: clock.now, maxStaleSeconds: 600 });
    assert.equal(cache.set('k', positive(60)), true);

    clock.advance(30);
    const fresh = cache.get('k')!;
    assert.equal(fresh.stale, false);
    assert.equal(fresh.ageSeconds, 30);
    assert.equal(fresh.ttlSeconds, 30);
    assert.equal(fresh.originalTtl, 60);
    assert.equal(fresh.negative, false);

    clock.advance(30);
    const stale = cache.get('k')!;
    assert.equal(stale.stale, true);
    assert.equal(stale.ttlSeconds, 0);

    clock.advance(599);
    assert.equal(cache.get('k')!.stale, true);
    clock.advance(1);
    assert.equal(cache.get('k'), null);
    assert.equal(cache.size, 0);

    const s = cache.stats();
    assert.equal(s.hits, 1);
    assert.equal(s.staleServed, 2);
    assert.equal(s.misses, 1);
    assert.equal(s.expired, 1);
  });

  it('takes the smallest TTL of the answer and authority records', () => {
    const r = analyseResponse(positive(300, [cnameRecord('www.example.com', 'edge.example.net', 45)]), LIMITS);
    assert.deepEqual(r.ok && r.ttl, 45);
    const withNs = buildResponse(q, {
      answers: [aRecord('www.example.com', '192.0.2.1', 300)],
      authority: [{ name: 'example.com', type: TYPE.NS, ttl: 20, data: Buffer.from([0]) }],
    });
    const r2 = analyseResponse(withNs, LIMITS);
    assert.equal(r2.ok && r2.ttl, 20);
  });

  it('caps positive TTLs at maxTtl and floors them at minTtl', () => {
    const clock = manualClock();
    const cache = createDnsCache({ clock: clock.now, maxTtl: 3600, minTtl: 5, maxStaleSeconds: 0 });
    cache.set('long', positive(7 * 86_400));
    cache.set('short', positive(1));
    assert.equal(cache.get('long')!.originalTtl, 3600);
    assert.equal(cache.get('short')!.originalTtl, 5);
    clock.advance(4);
    assert.equal(cache.get('short')!.stale, false);
    clock.advance(1);
    assert.equal(cache.get('short'), null); // no stale window
  });

  it('defaults: 1 day cap, 1 hour stale window', () => {
    const clock = manualClock();
    const cache = createDnsCache({ clock: clock.now });
    cache.set('k', positive(10 * 86_400));
    assert.equal(cache.get('k')!.originalTtl, 86_400);
    clock.advance(86_400 + 3599);
    assert.equal(cache.get('k')!.stale, true);
    clock.advance(1);
    assert.equal(cache.get('k'), null);
  });

  it('treats a TTL with the top bit set as zero (RFC 2181 §8)', () => {
    const r = analyseResponse(positive(0x80000001), LIMITS);
    assert.equal(r.ok && r.ttl, 0);
  });

  it('a zero-TTL answer is stored only to be served stale', () => {
    const clock = manualClock();
    const cache = createDnsCache({ clock: clock.now });
    assert.equal(cache.set('k', positive(0)), true);
    assert.equal(cache.get('k')!.stale, true);
    const noStale = createDnsCache({ clock: clock.now, maxStaleSeconds: 0 });
    assert.equal(noStale.set('k', positive(0)), false);
  });
});

describe('dns cache: negative answers (RFC 2308)', () => {
  const nx = (soaTtl: number, minimum: number, answers: TestRecord[] = []) =>
    buildResponse(q, { rcode: RCODE.NXDOMAIN, answers, authority: [soaRecord('example.com', soaTtl, minimum)] });

  it('caches NXDOMAIN for min(SOA TTL, SOA MINIMUM)', () => {
    const clock = manualClock();
    const cache = createDnsCache({ clock: clock.now, maxStaleSeconds: 0 });
    cache.set('a', nx(3600, 60));
    cache.set('b', nx(30, 900));
    assert.equal(cache.get('a')!.originalTtl, 60);
    assert.equal(cache.get('a')!.negative, true);
    assert.equal(cache.get('b')!.originalTtl, 30);
    clock.advance(60);
    assert.equal(cache.get('a'), null);
  });

  it('caps negative TTLs at maxNegativeTtl (default 300 s)', () => {
    assert.equal(createDnsCache().set('x', nx(86_400, 86_400)), true);
    const r = analyseResponse(nx(86_400, 86_400), LIMITS);
    assert.equal(r.ok && r.ttl, 300);
    const r2 = analyseResponse(nx(86_400, 86_400), { ...LIMITS, maxNegativeTtl: 10 });
    assert.equal(r2.ok && r2.ttl, 10);
  });

  it('a CNAME before the NXDOMAIN bounds it too', () => {
    const r = analyseResponse(nx(3600, 600, [cnameRecord('www.example.com', 'gone.example.net', 20)]), LIMITS);
    assert.equal(r.ok && r.ttl, 20);
    assert.equal(r.ok && r.negative, true);
  });

  it('caches NODATA (NOERROR, no answers, SOA) as negative', () => {
    const nodata = buildResponse(q, { authority: [soaRecord('example.com', 3600, 120)] });
    const r = analyseResponse(nodata, LIMITS);
    assert.deepEqual(r.ok && [r.ttl, r.negative], [120, true]);
  });

  it('does not cache a negative answer without an SOA', () => {
    const cache = createDnsCache();
    assert.equal(cache.set('a', buildResponse(q, { rcode: RCODE.NXDOMAIN })), false);
    assert.equal(cache.set('b', buildResponse(q, {})), false);
    const referral = buildResponse(q, { authority: [{ name: 'example.com', type: TYPE.NS, ttl: 300, data: Buffer.from([0]) }] });
    assert.equal(cache.set('c', referral), false);
    assert.equal(cache.stats().rejected.uncacheable, 3);
    assert.equal(cache.size, 0);
  });
});

describe('dns cache: what is never cached', () => {
  it('refuses SERVFAIL, truncated, REFUSED and non-QUERY responses', () => {
    const cache = createDnsCache();
    assert.equal(cache.set('servfail', buildResponse(q, { rcode: RCODE.SERVFAIL })), false);
    assert.equal(cache.set('tc', buildResponse(q, { tc: true, answers: [aRecord('www.example.com', '192.0.2.1', 60)] })), false);
    assert.equal(cache.set('refused', buildResponse(q, { rcode: RCODE.REFUSED })), false);
    const notify = positive(60);
    notify[2] = notify[2]! | (4 << 3); // opcode NOTIFY
    assert.equal(cache.set('notify', notify), false);
    assert.deepEqual(cache.stats().rejected, { malformed: 0, truncated: 1, servfail: 1, uncacheable: 2 });
    assert.equal(cache.size, 0);
  });

  it('refuses malformed responses, with every read bounds-checked', () => {
    const good = positive(60);
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['short header', good.subarray(0, 11)],
      ['a query, not a response', q],
      ['cut in the question', good.subarray(0, 20)],
      ['cut in the record header', good.subarray(0, good.length - 8)],
      ['cut in the rdata', good.subarray(0, good.length - 1)],
      ['trailing bytes', Buffer.concat([good, Buffer.from([0])])],
      ['answer count too high', (() => { const b = Buffer.from(good); b.writeUInt16BE(2, 6); return b; })()], // prettier-ignore
      ['no question', buildResponse(q, { noQuestion: true, answers: [aRecord('www.example.com', '192.0.2.1', 60)] })],
      ['two questions', (() => { const b = Buffer.from(good); b.writeUInt16BE(2, 4); return b; })()], // prettier-ignore
      ['rdlength past the end', (() => { const b = Buffer.from(good); b.writeUInt16BE(200, b.length - 6); return b; })()], // prettier-ignore
      [
        'SOA rdata too short',
        buildResponse(q, { rcode: RCODE.NXDOMAIN, authority: [{ name: 'example.com', type: TYPE.SOA, ttl: 60, data: Buffer.alloc(8) }] }),
      ],
      ['OPT in the answer section', buildResponse(q, { answers: [{ name: '.', type: TYPE.OPT, ttl: 0, data: Buffer.alloc(0) }] })],
    ];
    // A record owner name that is a forward (or self) pointer: a loop in waiting.
    const fwd = Buffer.from(good);
    const ownerAt = good.indexOf(Buffer.from([3, 0x77, 0x77, 0x77]), 17 + 12);
    fwd[ownerAt] = 0xc0;
    fwd[ownerAt + 1] = ownerAt;
    cases.push(['self pointer', fwd]);
    // A reserved label type (0b01).
    const reserved = Buffer.from(good);
    reserved[ownerAt] = 0x41;
    cases.push(['reserved label type', reserved]);

    const cache = createDnsCache();
    for (const [what, wire] of cases) {
      assert.equal(cache.set(what, wire), false, what);
      assert.equal(cache.get(what), null, what);
    }
    assert.equal(cache.stats().rejected.malformed, cases.length);
  });

  it('accepts compressed owner names that point back, and rejects pointers into the header', () => {
    const good = positive(60);
    const ownerAt = 12 + 17 + 4;
    const compressed = Buffer.concat([good.subarray(0, ownerAt), Buffer.from([0xc0, 12]), good.subarray(ownerAt + 17)]);
    assert.equal(analyseResponse(compressed, LIMITS).ok, true);
    const intoHeader = Buffer.from(compressed);
    intoHeader[ownerAt + 1] = 4;
    assert.deepEqual(analyseResponse(intoHeader, LIMITS), { ok: false, reason: 'malformed' });
    assert.equal(skipName(compressed, ownerAt), ownerAt + 2);
  });

  it('never throws on random or mutated packets', () => {
    const cache = createDnsCache({ maxEntries: 100 });
    const seeds = [positive(60), buildResponse(q, { rcode: RCODE.NXDOMAIN, authority: [soaRecord('example.com', 60, 60)] })];
    for (let i = 0; i < 20_000; i++) {
      let wire: Buffer;
      if (i % 2 === 0) wire = randomBytes(i % 600);
      else {
        wire = Buffer.from(seeds[i % seeds.length]!);
        const flips = 1 + (i % 4);
        for (let f = 0; f < flips; f++) wire[(i * 7919 + f * 104_729) % wire.length] = (i * 31 + f) & 0xff;
        if (i % 5 === 0) wire = wire.subarray(0, (i * 13) % wire.length);
      }
      cache.set(`k${i % 100}`, wire);
      const hit = cache.get(`k${i % 100}`);
      if (hit) renderHit(hit, q);
      cacheKeyFor(wire);
    }
  });
});

describe('dns cache: LRU and counters', () => {
  it('evicts the least recently used entry by count', () => {
    const cache = createDnsCache({ maxEntries: 2 });
    cache.set('a', positive(60));
    cache.set('b', positive(60));
    assert.ok(cache.get('a'));
    cache.set('c', positive(60));
    assert.ok(cache.get('a'));
    assert.equal(cache.get('b'), null);
    assert.ok(cache.get('c'));
    const s = cache.stats();
    assert.equal(s.size, 2);
    assert.equal(s.evictions, 1);
    assert.equal(s.stored, 3);
    assert.equal(s.hits, 3);
    assert.equal(s.misses, 1);
    assert.equal(s.bytes, positive(60).length * 2);
  });

  it('bounds bytes when asked, and counts replacements once', () => {
    const size = positive(60).length;
    const cache = createDnsCache({ maxEntries: 100, maxBytes: (size + 64) * 3 });
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, positive(60));
    assert.equal(cache.size, 3);
    cache.set('d', positive(30));
    assert.equal(cache.size, 3);
    assert.equal(cache.stats().bytes, size * 3);
    cache.clear();
    assert.equal(cache.stats().bytes, 0);
  });

  it('keeps its own copy of the wire', () => {
    const cache = createDnsCache();
    const wire = positive(60);
    cache.set('k', wire);
    wire.fill(0);
    assert.equal(readResponse(cache.get('k')!.wire).answers.length, 1);
  });
});

describe('dns cache: refresh bookkeeping and prefetch', () => {
  it('hands out one refresh ticket per key at a time', () => {
    const clock = manualClock();
    const cache = createDnsCache({ clock: clock.now, refreshTimeoutMs: 5000 });
    const t1 = cache.refreshing('k');
    assert.ok(t1);
    assert.equal(cache.refreshing('k'), null);
    assert.equal(cache.isRefreshing('k'), true);
    assert.ok(cache.refreshing('other'));
    t1.done();
    assert.equal(cache.isRefreshing('k'), false);
    const t2 = cache.refreshing('k')!;
    // A refresh that never finishes stops blocking after refreshTimeoutMs, and its late done() does not end the newer one.
    clock.advance(5);
    const t3 = cache.refreshing('k');
    assert.ok(t3);
    t2.done();
    assert.equal(cache.isRefreshing('k'), true);
    t3.done();
    assert.equal(cache.stats().refreshesInFlight, 1); // 'other'
  });

  it('refresh() fetches once and stores the result', async () => {
    const cache = createDnsCache();
    let calls = 0;
    let release!: (b: Buffer) => void;
    const fetch = () => {
      calls++;
      return new Promise<Buffer>((r) => (release = r));
    };
    const first = cache.refresh('k', fetch);
    assert.ok(first);
    assert.equal(cache.refresh('k', fetch), null);
    release(positive(60));
    assert.equal(await first, true);
    assert.equal(calls, 1);
    assert.ok(cache.get('k'));
    assert.equal(cache.isRefreshing('k'), false);
    const failing = cache.refresh('k', () => Promise.reject(new Error('upstream down')));
    await assert.rejects(failing!, /upstream down/);
    assert.equal(cache.isRefreshing('k'), false);
  });

  it('asks for a prefetch in the last 10% of the TTL, unless a refresh is running', () => {
    const clock = manualClock();
    const cache = createDnsCache({ clock: clock.now });
    cache.set('k', positive(100));
    cache.set('short', positive(5));
    clock.advance(89);
    assert.equal(cache.get('k')!.prefetch, false);
    clock.advance(1);
    assert.equal(cache.get('k')!.prefetch, true);
    const ticket = cache.refreshing('k')!;
    assert.equal(cache.get('k')!.prefetch, false);
    ticket.done();
    clock.advance(10);
    assert.equal(cache.get('k')!.prefetch, false); // stale now: a refresh, not a prefetch
    assert.equal(cache.stats().prefetches, 1);
    const c2 = createDnsCache({ clock: clock.now });
    c2.set('short', positive(5));
    clock.advance(4.9);
    assert.equal(c2.get('short')!.prefetch, false); // too short-lived to bother
  });
});

describe('dns cache: rendering a hit and keys', () => {
  it('patches the id, RD, question case and TTLs by age; leaves OPT alone', () => {
    const clock = manualClock();
    const cache = createDnsCache({ clock: clock.now });
    const wire = buildResponse(q, {
      answers: [cnameRecord('www.example.com', 'edge.example.net', 300), aRecord('edge.example.net', '192.0.2.7', 60)],
      additional: [optRecord(1232, true)],
    });
    cache.set('k', wire);
    clock.advance(25);
    const client = buildQuery('WWW.Example.COM', TYPE.A, { id: 0xbeef, rd: false });
    const out = renderHit(cache.get('k')!, client);
    const r = readResponse(out);
    assert.equal(r.id, 0xbeef);
    assert.equal(out[2]! & 0x01, 0);
    assert.equal(out.subarray(12, 29).toString('latin1'), client.subarray(12, 29).toString('latin1'));
    // The entry lives 60 s: no TTL may outlast it.
    assert.deepEqual(
      r.answers.map((a) => a.ttl),
      [35, 35],
    );
    assert.equal(out.readUInt32BE(out.length - 6), 0x00008000); // OPT "TTL" = extended rcode/flags, DO
    assert.equal(readResponse(cache.get('k')!.wire).answers[1]!.ttl, 60); // the stored copy is untouched

    clock.advance(60);
    const stale = readResponse(renderHit(cache.get('k')!, client));
    assert.deepEqual(
      stale.answers.map((a) => a.ttl),
      [30, 30],
    );
  });

  it('builds keys that ignore case and separate types, CD and DO', () => {
    const a = cacheKeyFor(buildQuery('WWW.example.com', TYPE.A))!;
    assert.equal(a, 'www.example.com/1/1/');
    assert.equal(cacheKeyFor(buildQuery('www.example.com.', TYPE.A, { id: 9 })), a);
    assert.notEqual(cacheKeyFor(buildQuery('www.example.com', TYPE.AAAA)), a);
    assert.equal(cacheKeyFor(buildQuery('www.example.com', TYPE.A, { cd: true })), 'www.example.com/1/1/c');
    assert.equal(cacheKeyFor(buildQuery('www.example.com', TYPE.A, { edns: { dnssecOk: true } })), 'www.example.com/1/1/d');
    assert.equal(cacheKeyFor(buildQuery('www.example.com', TYPE.A, { edns: {} })), a);
    assert.equal(cacheKeyFor(buildQuery('.', TYPE.NS)), '/2/1/');
    assert.equal(cacheKeyFor(Buffer.alloc(5)), null);
  });
});
