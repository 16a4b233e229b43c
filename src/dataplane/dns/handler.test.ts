/**
 * The per-question pipeline with a real cache, real upstream forwarding to a fake server on
 * loopback, and real policy decisions (core's classifier, compilePolicy and decide): what is
 * forwarded, blocked, rewritten, served stale or refused, and what every question records.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  buildClassifier,
  compilePolicy,
  createClassificationEngine,
  createIllegalTier,
  decide,
  defaultTrustPolicy,
  resolvePolicy,
  type ClientIdentity,
  type EventSink,
  type FilterEvent,
  type SchoolPolicy,
} from '../../core/index.ts';
import { createDnsCache } from './cache.ts';
import { createDnsHandler, type DnsDecideRequest, type DnsFilterDeps } from './handler.ts';
import {
  aRecord,
  answerAddresses,
  buildQuery,
  buildResponse,
  cnameRecord,
  readResponse,
  startFakeUpstream,
  TYPE,
  type FakeUpstream,
} from './test-upstream.ts';
import { createUpstreams } from './upstream.ts';
import { RRType } from './wire/index.ts';
import dnsPacket from 'dns-packet';

const LISTS = [
  { name: 'ut1/gambling', domains: ['bet.example'], urls: [], expressions: [] },
  { name: 'ut1/games', domains: ['games.example'], urls: [], expressions: [] },
  { name: 'ut1/social_networks', domains: ['social.example'], urls: [], expressions: [] },
  { name: 'ut1/malware', domains: ['192.0.2.66'], urls: [], expressions: [] },
];
const CATEGORIES = ['gambling', 'games', 'social-networks', 'malware'];

const engine = createClassificationEngine({
  classifier: buildClassifier(LISTS),
  listCategories: CATEGORIES,
  illegal: createIllegalTier([], { canaries: ['iwf-canary.haven.test'] }),
});

const SCHOOL = 'school-1';
const policyWith = (school: Partial<SchoolPolicy> = {}) =>
  compilePolicy(resolvePolicy(defaultTrustPolicy(), { schoolId: SCHOOL, ...school }));

const decideWith = (policy: ReturnType<typeof policyWith>) => (_school: string, r: DnsDecideRequest) => {
  let c = engine.classify(r.site);
  if (r.fallback && c.category === null && c.host !== null) c = { ...c, category: r.fallback.category, source: r.fallback.source };
  return { classification: c, decision: c.host === null ? null : decide(policy, { host: c.host, at: r.at, person: r.person }, c) };
};

const ks3: ClientIdentity = {
  schoolId: SCHOOL,
  person: { kind: 'pupil', groups: [], yearGroup: '10' },
  personId: 'p-1',
  deviceId: null,
  place: null,
  via: 'site',
};

const events = (): EventSink & { seen: FilterEvent[] } => {
  const seen: FilterEvent[] = [];
  return {
    seen,
    write: (e) => void seen.push(e),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    stats: () => ({ queued: 0, written: seen.length, spooled: 0, dropped: 0 }),
  };
};

describe('DNS handler', () => {
  let upstream: FakeUpstream;
  const zone = new Map<string, (q: Buffer) => Buffer>();

  before(async () => {
    upstream = await startFakeUpstream((q) => {
      const name = dnsPacket.decode(q).questions?.[0]?.name.toLowerCase() ?? '';
      const make = zone.get(name);
      return make ? make(q) : buildResponse(q, { rcode: 3 });
    });
    zone.set('www.bbc.co.uk', (q) => buildResponse(q, { answers: [aRecord('www.bbc.co.uk', '192.0.2.22', 300)] }));
    zone.set('sneaky.example', (q) =>
      buildResponse(q, { answers: [cnameRecord('sneaky.example', 'bet.example', 300), aRecord('bet.example', '192.0.2.21', 300)] }),
    );
    zone.set('innocent.example', (q) => buildResponse(q, { answers: [aRecord('innocent.example', '192.0.2.66', 300)] }));
    zone.set('games.example', (q) => buildResponse(q, { answers: [aRecord('games.example', '192.0.2.23', 300)] }));
    zone.set('social.example', (q) => buildResponse(q, { answers: [aRecord('social.example', '192.0.2.24', 300)] }));
    zone.set('forcesafesearch.google.com', (q) =>
      buildResponse(q, { answers: [aRecord('forcesafesearch.google.com', '216.239.38.120', 300)] }),
    );
    zone.set('ech.example', (q) => {
      // HTTPS record: priority 1, target ".", SvcParam key 5 (ech) with 3 bytes.
      const rdata = Buffer.from([0, 1, 0, 0, 5, 0, 3, 1, 2, 3]);
      return buildResponse(q, { answers: [{ name: 'ech.example', type: 65, ttl: 300, data: rdata }] });
    });
  });
  after(() => upstream.close());

  const handlerWith = (over: Partial<DnsFilterDeps> = {}, policy = policyWith()) => {
    const sink = events();
    const deps: DnsFilterDeps = {
      identify: () => ks3,
      decideNow: decideWith(policy),
      decide: (s, r) => Promise.resolve(decideWith(policy)(s, r)),
      safeSearch: (host, settings) => (host === 'www.google.com' && settings.safeSearch ? { target: 'forcesafesearch.google.com' } : null),
      circumvention: (host) =>
        host === 'use-application-dns.net' ? { kind: 'canary' } : host === 'dns.google' ? { kind: 'doh-resolver' } : null,
      cache: createDnsCache(),
      upstreams: createUpstreams({ servers: [upstream.address], timeoutMs: 500 }),
      events: sink,
      blockPage: {},
      ...over,
    };
    return { handler: createDnsHandler(deps), sink, deps };
  };
  const ask = async (h: ReturnType<typeof handlerWith>, name: string, type: number = TYPE.A, edns = true) => {
    const reply = await h.handler.handle(buildQuery(name, type, edns ? { edns: { udpSize: 1232 } } : {}), {
      ip: '10.0.0.8',
      transport: 'udp',
    });
    assert.ok(reply, `no reply for ${name}`);
    return reply;
  };

  it('forwards allowed names, caches them, and records each question', async () => {
    const h = handlerWith();
    const before = upstream.udpQueries.length;
    assert.deepEqual(answerAddresses(await ask(h, 'www.bbc.co.uk')), ['192.0.2.22']);
    assert.deepEqual(answerAddresses(await ask(h, 'WWW.BBC.co.uk')), ['192.0.2.22']);
    assert.equal(upstream.udpQueries.length - before, 1, 'the second came from the cache');
    assert.equal(h.sink.seen.length, 2);
    const e = h.sink.seen[0]!;
    assert.deepEqual(
      [e.host, e.qtype, e.action, e.source, e.schoolId, e.personId, e.clientIp],
      ['www.bbc.co.uk', 'A', 'allow', 'dns', SCHOOL, 'p-1', '10.0.0.8'],
    );
    assert.ok(e.latencyUs > 0);
  });

  it('blocks without asking upstream, with the category in an Extended DNS Error', async () => {
    const h = handlerWith();
    const before = upstream.udpQueries.length;
    assert.deepEqual(answerAddresses(await ask(h, 'www.bet.example')), ['0.0.0.0']);
    assert.equal(upstream.udpQueries.length, before);
    const text = (await ask(h, 'bet.example')).toString('latin1');
    assert.match(text, /Filtered by school policy: gambling/);
    assert.equal(h.sink.seen[0]!.action, 'block');
    assert.equal(h.sink.seen[0]!.list, 'ut1/gambling');
    const noEdns = (await ask(h, 'bet.example', TYPE.A, false)).toString('latin1');
    assert.doesNotMatch(noEdns, /Filtered/, 'no OPT record without EDNS');
  });

  it('points blocked and warned names at the block page when one is configured', async () => {
    const h = handlerWith({ blockPage: { a: '192.0.2.200', aaaa: '2001:db8::200' } });
    assert.deepEqual(answerAddresses(await ask(h, 'bet.example')), ['192.0.2.200']);
    assert.deepEqual(answerAddresses(await ask(h, 'bet.example', TYPE.AAAA)), ['2001:db8:0:0:0:0:0:200']);
    // Games warn for KS3: over DNS the block page gives the notice and the way on.
    assert.deepEqual(answerAddresses(await ask(h, 'games.example')), ['192.0.2.200']);
    const plain = handlerWith();
    assert.deepEqual(
      answerAddresses(await ask(plain, 'games.example')),
      ['192.0.2.23'],
      'no block page: a warning cannot be shown, so it is allowed and logged',
    );
    assert.equal(plain.sink.seen[0]!.action, 'warn');
  });

  it('records allow-and-flag answers as flagged', async () => {
    const h = handlerWith();
    assert.deepEqual(answerAddresses(await ask(h, 'social.example')), ['192.0.2.24']);
    assert.equal(h.sink.seen[0]!.action, 'allow-and-flag');
    assert.equal(h.sink.seen[0]!.flagged, true);
  });

  it('blocks through CNAME chains and listed answer addresses', async () => {
    const h = handlerWith();
    assert.deepEqual(answerAddresses(await ask(h, 'sneaky.example')), ['0.0.0.0']);
    assert.equal(h.sink.seen[0]!.category, 'gambling');
    assert.deepEqual(answerAddresses(await ask(h, 'innocent.example')), ['0.0.0.0']);
    assert.equal(h.sink.seen[1]!.category, 'malware');
  });

  it('rewrites to SafeSearch, and applies the circumvention controls', async () => {
    const h = handlerWith();
    const safe = dnsPacket.decode(await ask(h, 'www.google.com'));
    assert.deepEqual(
      safe.answers?.map((a) => [a.type, (a as { data: unknown }).data]),
      [
        ['CNAME', 'forcesafesearch.google.com'],
        ['A', '216.239.38.120'],
      ],
    );
    assert.equal(h.sink.seen[0]!.layer, 'safesearch');
    assert.equal(readResponse(await ask(h, 'use-application-dns.net')).rcode, 3);
    assert.deepEqual(answerAddresses(await ask(h, 'dns.google')), ['0.0.0.0']);
    const ech = readResponse(await ask(h, 'ech.example', RRType.HTTPS));
    assert.equal(ech.answers.length, 0, 'HTTPS records carrying ECH are withheld');
    assert.equal(h.sink.seen.at(-1)!.layer, 'circumvention');
  });

  it('serves a stale answer when the upstreams fail, and SERVFAIL quickly when it has none', async () => {
    let now = 1_000_000;
    const cache = createDnsCache({ clock: () => now });
    const dead = createUpstreams({ servers: ['127.0.0.1:9'], timeoutMs: 200 });
    const h = handlerWith({ cache, upstreams: dead });
    const live = handlerWith({ cache });
    assert.deepEqual(answerAddresses(await ask(live, 'www.bbc.co.uk')), ['192.0.2.22']);
    now += 400_000; // past the 300 s TTL
    const stale = await ask(h, 'www.bbc.co.uk');
    assert.deepEqual(answerAddresses(stale), ['192.0.2.22']);
    assert.equal(readResponse(stale).answers[0]!.ttl, 30);
    const started = Date.now();
    assert.equal(readResponse(await ask(h, 'never.example')).rcode, 2);
    assert.ok(Date.now() - started < 2000);
    assert.equal(h.sink.seen.at(-1)!.layer, 'error');
    dead.close();
  });

  it('refuses when no school can be found, and answers FORMERR or nothing to bad packets', async () => {
    const h = handlerWith({ identify: () => null });
    assert.equal(readResponse(await ask(h, 'www.bbc.co.uk')).rcode, 5);
    const ok = handlerWith();
    assert.equal(await ok.handler.handle(Buffer.from([1, 2, 3]), { ip: '10.0.0.8', transport: 'udp' }), null);
    const twoQuestions = buildQuery('a.example');
    twoQuestions.writeUInt16BE(2, 4);
    const formerr = await ok.handler.handle(twoQuestions, { ip: '10.0.0.8', transport: 'udp' });
    assert.ok(formerr);
    assert.equal(formerr[3]! & 0x0f, 1);
    assert.equal(ok.sink.seen.length, 0, 'rejected packets are counted, not recorded as questions');
  });

  it('survives a million random and mutated packets without throwing or hanging', async () => {
    const failing = { forward: () => Promise.reject(new Error('no upstream in this test')) };
    const h = handlerWith({ upstreams: failing, events: events() });
    let seed = 0x5eed;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const valid = [
      buildQuery('www.bbc.co.uk'),
      buildQuery('bet.example', TYPE.AAAA, { edns: { udpSize: 4096 } }),
      buildQuery('a.b.c.example', 65),
    ];
    const started = Date.now();
    let answered = 0;
    for (let i = 0; i < 1_000_000; i++) {
      let packet: Buffer;
      if (i % 2 === 0) {
        packet = Buffer.allocUnsafe(Math.floor(random() * 80));
        for (let j = 0; j < packet.length; j++) packet[j] = (random() * 256) | 0;
      } else {
        packet = Buffer.from(valid[i % valid.length]!);
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) packet[Math.floor(random() * packet.length)] = (random() * 256) | 0;
        if (random() < 0.2) packet = packet.subarray(0, Math.floor(random() * packet.length));
      }
      const reply = await h.handler.handle(packet, { ip: '10.0.0.9', transport: 'udp' });
      if (reply) answered++;
    }
    assert.ok(answered > 1000, `${answered} answered`);
    assert.ok(Date.now() - started < 120_000, 'bounded');
    // Still works.
    assert.deepEqual(answerAddresses(await ask(handlerWith(), 'www.bbc.co.uk')), ['192.0.2.22']);
  });

  it('answers blocks and fresh cache hits at once, without a Promise', async () => {
    const h = handlerWith();
    const query = buildQuery('www.bbc.co.uk', TYPE.A, { edns: { udpSize: 1232 } });
    const client = { ip: '10.0.0.8', transport: 'udp' } as const;
    assert.ok(h.handler.handleNow(query, client) instanceof Promise, 'a miss waits for the upstream');
    await h.handler.handle(query, client);
    const hit = h.handler.handleNow(query, client);
    assert.ok(Buffer.isBuffer(hit), 'a cache hit is answered in the same turn');
    assert.deepEqual(answerAddresses(hit), ['192.0.2.22']);
    const blocked = h.handler.handleNow(buildQuery('bet.example'), client);
    assert.ok(Buffer.isBuffer(blocked), 'so is a block');
    assert.deepEqual(answerAddresses(blocked), ['0.0.0.0']);
    assert.equal(h.sink.seen.length, 4, 'every question recorded');
    const waiting = handlerWith({ decideNow: () => null });
    assert.ok(waiting.handler.handleNow(buildQuery('bet.example'), client) instanceof Promise, 'no decision yet: it waits for one');
  });

  it("keeps the answer check's verdict on the cache entry, and checks again when the decision scope changes", async () => {
    let lists = engine;
    let scope = {};
    const asked: string[] = [];
    const decideNow = (_school: string, r: DnsDecideRequest) => {
      asked.push(r.site);
      const c = lists.classify(r.site);
      return {
        classification: c,
        decision: c.host === null ? null : decide(policyWith(), { host: c.host, at: r.at, person: r.person }, c),
      };
    };
    const h = handlerWith({ decideNow, decisionScope: () => scope });
    assert.deepEqual(answerAddresses(await ask(h, 'www.bbc.co.uk')), ['192.0.2.22']); // from the upstream, checked
    assert.deepEqual(answerAddresses(await ask(h, 'www.bbc.co.uk')), ['192.0.2.22']); // a hit: checked, verdict kept
    const checks = () => asked.filter((site) => site === '192.0.2.22').length;
    const before = checks();
    assert.deepEqual(answerAddresses(await ask(h, 'www.bbc.co.uk')), ['192.0.2.22']);
    assert.equal(checks(), before, 'the kept verdict answered');
    // A list import now lists the address: a new scope (the runtime gives one per list generation).
    lists = createClassificationEngine({
      classifier: buildClassifier([...LISTS, { name: 'ut1/malware2', domains: ['192.0.2.22'], urls: [], expressions: [] }]),
      listCategories: [...CATEGORIES, 'malware'],
      illegal: null,
    });
    assert.deepEqual(answerAddresses(await ask(h, 'www.bbc.co.uk')), ['192.0.2.22'], 'same scope: the kept verdict still holds');
    scope = {};
    assert.deepEqual(answerAddresses(await ask(h, 'www.bbc.co.uk')), ['0.0.0.0'], 'new scope: checked again, now blocked');
    assert.equal(h.sink.seen.at(-1)!.category, 'malware');
    assert.deepEqual(answerAddresses(await ask(h, 'www.bbc.co.uk')), ['0.0.0.0'], 'and the blocking verdict is kept too');
    assert.equal(h.sink.seen.at(-1)!.action, 'block');
  });
});
