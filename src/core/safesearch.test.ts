import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DomainError } from './errors.ts';
import { createSafeSearch, parseSafeSearchData, type SafeSearchSettings } from './safesearch.ts';
import { YOUTUBE_MODES } from './policy/index.ts';

const json: unknown = JSON.parse(readFileSync(new URL('../../data/safesearch.json', import.meta.url), 'utf8'));
const data = parseSafeSearchData(json);
const ss = createSafeSearch(data);

const ON: SafeSearchSettings = { safeSearch: true, youtube: 'off' };
const OFF: SafeSearchSettings = { safeSearch: false, youtube: 'off' };

/** Every Google country domain, as https://www.google.com/supported_domains lists them (without the leading dot). */
const GOOGLE_SUPPORTED = `google.com google.ad google.ae google.com.af google.com.ag google.al google.am google.co.ao
google.com.ar google.as google.at google.com.au google.az google.ba google.com.bd google.be google.bf google.bg google.com.bh
google.bi google.bj google.com.bn google.com.bo google.com.br google.bs google.bt google.co.bw google.by google.com.bz
google.ca google.cd google.cf google.cg google.ch google.ci google.co.ck google.cl google.cm google.cn google.com.co
google.co.cr google.com.cu google.cv google.com.cy google.cz google.de google.dj google.dk google.dm google.com.do
google.dz google.com.ec google.ee google.com.eg google.es google.com.et google.fi google.com.fj google.fm google.fr
google.ga google.ge google.gg google.com.gh google.com.gi google.gl google.gm google.gr google.com.gt google.gy
google.com.hk google.hn google.hr google.ht google.hu google.co.id google.ie google.co.il google.im google.co.in
google.iq google.is google.it google.je google.com.jm google.jo google.co.jp google.co.ke google.com.kh google.ki
google.kg google.co.kr google.com.kw google.kz google.la google.com.lb google.li google.lk google.co.ls google.lt
google.lu google.lv google.com.ly google.co.ma google.md google.me google.mg google.mk google.ml google.com.mm
google.mn google.com.mt google.mu google.mv google.mw google.com.mx google.com.my google.co.mz google.com.na
google.com.ng google.com.ni google.ne google.nl google.no google.com.np google.nr google.nu google.co.nz google.com.om
google.com.pa google.com.pe google.com.pg google.com.ph google.com.pk google.pl google.pn google.com.pr google.ps
google.pt google.com.py google.com.qa google.ro google.ru google.rw google.com.sa google.com.sb google.sc google.se
google.com.sg google.sh google.si google.sk google.com.sl google.sn google.so google.sm google.sr google.st
google.com.sv google.td google.tg google.co.th google.com.tj google.tl google.tm google.tn google.to google.com.tr
google.tt google.com.tw google.co.tz google.com.ua google.co.ug google.co.uk google.com.uy google.co.uz google.com.vc
google.co.ve google.co.vi google.com.vn google.vu google.ws google.rs google.co.za google.co.zm google.co.zw
google.cat`.split(/\s+/);

const problemsOf = (input: unknown): string[] => {
  try {
    parseSafeSearchData(input);
    return [];
  } catch (e) {
    assert.ok(e instanceof DomainError);
    return (e.details as { path: string; message: string }[]).map((p) => `${p.path}: ${p.message}`);
  }
};

const engine = (over: Record<string, unknown> = {}) => ({
  id: 'google',
  name: 'Google Search',
  control: 'safeSearch',
  targets: { on: 'forcesafesearch.google.com' },
  hosts: ['www.google.com', 'google.com'],
  ...over,
});

describe('SafeSearch data (data/safesearch.json)', () => {
  it('is valid, with the engines the DNS filter issue names', () => {
    assert.deepEqual(
      data.engines.map((e) => e.id),
      ['google', 'bing', 'duckduckgo', 'youtube', 'pixabay'],
    );
    assert.ok(GOOGLE_SUPPORTED.length > 180, 'the published list has about 190 domains');
    const google = data.engines.find((e) => e.id === 'google')!;
    assert.ok(google.hosts.length >= 2 * GOOGLE_SUPPORTED.length);
  });

  it('rewrites every Google country domain, with and without www., when SafeSearch is on, and not when it is off', () => {
    for (const domain of GOOGLE_SUPPORTED) {
      for (const host of [domain, `www.${domain}`]) {
        assert.deepEqual(ss.rewriteFor(host, ON), { engine: 'google', target: 'forcesafesearch.google.com' }, host);
        assert.equal(ss.rewriteFor(host, OFF), null, host);
      }
    }
  });

  it('rewrites Bing, DuckDuckGo and Pixabay with SafeSearch on only', () => {
    const expected: Record<string, string> = {
      'www.bing.com': 'strict.bing.com',
      'bing.com': 'strict.bing.com',
      'duckduckgo.com': 'safe.duckduckgo.com',
      'www.duckduckgo.com': 'safe.duckduckgo.com',
      'start.duckduckgo.com': 'safe.duckduckgo.com',
      'pixabay.com': 'safesearch.pixabay.com',
    };
    for (const [host, target] of Object.entries(expected)) {
      assert.equal(ss.rewriteFor(host, ON)?.target, target, host);
      assert.equal(ss.rewriteFor(host, OFF), null, host);
      // The YouTube mode has nothing to do with search engines.
      assert.equal(ss.rewriteFor(host, { safeSearch: false, youtube: 'strict' }), null, host);
    }
  });

  it('rewrites YouTube by the YouTube mode alone: strict, moderate or off', () => {
    const hosts = ['www.youtube.com', 'm.youtube.com', 'youtubei.googleapis.com', 'youtube.googleapis.com', 'www.youtube-nocookie.com'];
    for (const host of hosts) {
      for (const safeSearch of [true, false]) {
        assert.deepEqual(ss.rewriteFor(host, { safeSearch, youtube: 'strict' }), { engine: 'youtube', target: 'restrict.youtube.com' });
        assert.deepEqual(ss.rewriteFor(host, { safeSearch, youtube: 'moderate' }), {
          engine: 'youtube',
          target: 'restrictmoderate.youtube.com',
        });
        assert.equal(ss.rewriteFor(host, { safeSearch, youtube: 'off' }), null);
      }
    }
  });

  it('never rewrites a target, nor names that only look like a listed host', () => {
    const allTargets = ['forcesafesearch.google.com', 'strict.bing.com', 'safe.duckduckgo.com', 'restrict.youtube.com'];
    for (const t of [...allTargets, 'restrictmoderate.youtube.com', 'safesearch.pixabay.com']) {
      assert.ok(ss.isSafeSearchTarget(t), t);
      assert.ok(ss.isSafeSearchTarget(`${t.toUpperCase()}.`), t);
      for (const youtube of YOUTUBE_MODES) assert.equal(ss.rewriteFor(t, { safeSearch: true, youtube }), null, t);
    }
    assert.equal(ss.isSafeSearchTarget('www.google.com'), false);
    for (const host of [
      'mail.google.com',
      'docs.google.com',
      'images.google.co.uk',
      'google.co.uk.example',
      'wwwgoogle.com',
      'youtube.com',
      'x.www.bing.com',
    ]) {
      assert.equal(ss.rewriteFor(host, { safeSearch: true, youtube: 'strict' }), null, host);
    }
  });

  it('ignores case and a trailing dot in the queried name', () => {
    for (const host of ['WWW.Google.CO.UK', 'www.google.co.uk.', 'WWW.GOOGLE.CO.UK.', 'Www.YouTube.com.']) {
      assert.ok(ss.rewriteFor(host, { safeSearch: true, youtube: 'strict' }), host);
    }
    assert.equal(ss.rewriteFor('', ON), null);
    assert.equal(ss.rewriteFor('.', ON), null);
  });

  it('returns the same frozen answer each time (nothing allocated on the hot path)', () => {
    const a = ss.rewriteFor('www.google.com', ON);
    assert.equal(a, ss.rewriteFor('www.google.com', ON));
    assert.ok(Object.isFrozen(a));
  });

  it('knows the fallback addresses it has, and engines DNS cannot force', () => {
    assert.deepEqual(ss.fallbackFor('forcesafesearch.google.com'), { a: ['216.239.38.120'], aaaa: ['2001:4860:4802:32::78'] });
    assert.equal(ss.fallbackFor('safe.duckduckgo.com'), undefined);
    assert.equal(ss.fallbackFor('constructor'), undefined);
    assert.equal(ss.unenforceableFor('search.brave.com')?.id, 'brave');
    assert.equal(ss.unenforceableFor('YANDEX.RU.')?.knownTarget, 'familysearch.yandex.ru');
    assert.equal(ss.unenforceableFor('www.google.com'), null);
  });

  it('even data built by hand cannot make a target rewrite', () => {
    const s = createSafeSearch({
      engines: [{ id: 'x', name: 'X', control: 'safeSearch', targets: { on: 'safe.x.example' }, hosts: ['x.example', 'safe.x.example'] }],
      fallbackAddresses: {},
      unenforceable: [],
    });
    assert.equal(s.rewriteFor('safe.x.example', ON), null);
    assert.equal(s.rewriteFor('x.example', ON)?.target, 'safe.x.example');
  });
});

describe('parseSafeSearchData', () => {
  it('refuses malformed data, naming each problem', () => {
    assert.deepEqual(
      problemsOf({
        engines: [
          engine({ hosts: ['www.google.com', 'Www.Google.de', 'google.fr.', 'bad_host.com', 7] }),
          { id: 'bing', control: 'safeSearch', targets: { on: 'strict.bing.com' }, hosts: ['www.bing.com'] },
          engine({ id: 'ddg', name: 'DuckDuckGo', targets: {}, hosts: ['duckduckgo.com'] }),
          engine({
            id: 'yt',
            name: 'YouTube',
            control: 'youtube',
            targets: { strict: 'restrict.youtube.com', on: 'x.com' },
            hosts: ['www.youtube.com'],
          }),
          engine({ id: 'loop', name: 'Loop', targets: { on: 'safe.loop.example' }, hosts: ['loop.example', 'safe.loop.example'] }),
          engine({ id: 'dup', name: 'Dup', targets: { on: 'safe.dup.example' }, hosts: ['www.google.com'] }),
          engine({ id: 'Bad Id', name: 'B', control: 'images', hosts: [] }),
          engine({ id: 'src', name: 'Src', targets: { on: 'safe.src.example' }, hosts: ['src.example'], source: 'ftp://x', extra: 1 }),
        ],
        fallbackAddresses: {
          'forcesafesearch.google.com': { a: ['216.239.38.999'], aaaa: ['2001:4860:4802:32::78'] },
          'nowhere.example': { a: [] },
        },
        unenforceable: [{ id: 'eco', name: 'Ecosia', hosts: ['ecosia.org'] }],
        surprise: true,
      }),
      [
        'surprise: unknown field',
        'engines[0].hosts[1]: "Www.Google.de" must be a lower-case host name without a trailing dot, such as "www.google.co.uk"',
        'engines[0].hosts[2]: "google.fr." must be a lower-case host name without a trailing dot, such as "www.google.co.uk"',
        'engines[0].hosts[3]: "bad_host.com" must be a lower-case host name without a trailing dot, such as "www.google.co.uk"',
        'engines[0].hosts[4]: 7 must be a lower-case host name without a trailing dot, such as "www.google.co.uk"',
        'engines[1].name: must be the engine\'s name, such as "Google Search"',
        'engines[2].targets.on: is missing',
        'engines[3].targets.on: not a target for control "youtube" (expected "strict" and "moderate")',
        'engines[3].targets.moderate: is missing',
        'engines[5].hosts[0]: "www.google.com" is already listed at engines[0].hosts[0]',
        'engines[6].id: must be a short lower-case id such as "google"',
        'engines[6].hosts: must be a non-empty list of host names',
        'engines[6].control: must be one of "safeSearch", "youtube"',
        'engines[7].extra: unknown field',
        'engines[7].source: must be an https:// address',
        'unenforceable[0].reason: must say why DNS cannot enforce it and what to do instead',
        'engines[4].hosts[1]: "safe.loop.example" is a rewrite target (engines[4].targets.on) and cannot also be a host to rewrite',
        'fallbackAddresses.forcesafesearch.google.com.a: must be a list of IPv4 addresses',
        'fallbackAddresses.nowhere.example: "nowhere.example" is not the target of any engine',
      ],
    );
  });

  it('refuses a target listed as a host of another engine', () => {
    assert.deepEqual(
      problemsOf({
        engines: [
          engine(),
          engine({
            id: 'yt',
            name: 'YouTube',
            control: 'youtube',
            targets: { strict: 'www.google.com', moderate: 'm.example' },
            hosts: ['www.youtube.com'],
          }),
        ],
      }),
      ['engines[0].hosts[0]: "www.google.com" is a rewrite target (engines[1].targets.strict) and cannot also be a host to rewrite'],
    );
  });

  it('checks the fallback addresses by family', () => {
    const withFallback = (a: unknown, aaaa: unknown) =>
      problemsOf({ engines: [engine()], fallbackAddresses: { 'forcesafesearch.google.com': { a, aaaa } } });
    assert.deepEqual(withFallback(['216.239.38.120'], ['2001:4860:4802:32::78']), []);
    assert.deepEqual(withFallback(['2001:4860:4802:32::78'], ['216.239.38.120']), [
      'fallbackAddresses.forcesafesearch.google.com.a: must be a list of IPv4 addresses',
      'fallbackAddresses.forcesafesearch.google.com.aaaa: must be a list of IPv6 addresses',
    ]);
    assert.deepEqual(withFallback([' 216.239.38.120'], ['[2001:db8::1]']), [
      'fallbackAddresses.forcesafesearch.google.com.a: must be a list of IPv4 addresses',
      'fallbackAddresses.forcesafesearch.google.com.aaaa: must be a list of IPv6 addresses',
    ]);
  });

  it('says what is wrong in the message itself, for the log at start-up', () => {
    assert.throws(() => parseSafeSearchData({ engines: [engine({ hosts: ['WWW.GOOGLE.COM'] })] }), {
      name: 'DomainError',
      code: 'VALIDATION_FAILED',
      message: /^The SafeSearch data is not valid: engines\[0\]\.hosts\[0\]: "WWW.GOOGLE.COM" must be a lower-case host name/,
    });
    assert.throws(() => parseSafeSearchData([]), /must be an object with an "engines" array/);
    assert.throws(() => parseSafeSearchData({ engines: [] }), /engines: must list at least one engine/);
  });

  it('keeps optional fields and drops nothing it was given', () => {
    const d = parseSafeSearchData({ engines: [engine({ note: 'n', source: 'https://example.org/x' })] });
    assert.deepEqual(d.engines[0], { ...engine(), note: 'n', source: 'https://example.org/x' });
    assert.deepEqual(d.fallbackAddresses, {});
    assert.deepEqual(d.unenforceable, []);
  });
});

describe('docs/safesearch.md', () => {
  const doc = readFileSync(new URL('../../docs/safesearch.md', import.meta.url), 'utf8');

  it('names every engine in data/safesearch.json, and every target', () => {
    const missing: string[] = [];
    for (const e of data.engines) {
      if (!doc.includes(e.name)) missing.push(e.name);
      for (const t of Object.values(e.targets)) if (!doc.includes(`\`${t}\``)) missing.push(t);
    }
    for (const e of data.unenforceable) if (!doc.includes(e.name)) missing.push(e.name);
    assert.deepEqual(missing, [], 'docs/safesearch.md must describe every engine in data/safesearch.json');
  });
});
