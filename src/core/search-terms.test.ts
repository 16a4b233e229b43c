import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DomainError } from './errors.ts';
import type { SafeSearchSettings } from './safesearch.ts';
import { createSearchEngines, decodeQueryValue, MAX_SEARCH_TERM_LENGTH, parseSearchEngineData } from './search-terms.ts';

const json: unknown = JSON.parse(readFileSync(new URL('../../data/search-engines.json', import.meta.url), 'utf8'));
const data = parseSearchEngineData(json);
const engines = createSearchEngines(data);
const term = (url: string) => engines.extractSearchTerm(url);

const ON: SafeSearchSettings = { safeSearch: true, youtube: 'strict' };
const OFF: SafeSearchSettings = { safeSearch: false, youtube: 'off' };

const problemsOf = (input: unknown): string[] => {
  try {
    parseSearchEngineData(input);
    return [];
  } catch (e) {
    assert.ok(e instanceof DomainError);
    return (e.details as { path: string; message: string }[]).map((p) => `${p.path}: ${p.message}`);
  }
};

describe('data/search-engines.json', () => {
  it('validates and has the engines the proxy needs', () => {
    const ids = data.engines.map((e) => e.id);
    for (const id of [
      'google',
      'bing',
      'duckduckgo',
      'youtube',
      'yahoo',
      'ecosia',
      'brave',
      'startpage',
      'qwant',
      'yandex',
      'baidu',
      'wikipedia',
      'amazon',
      'tiktok',
      'pinterest',
    ])
      assert.ok(ids.includes(id), id);
  });

  it('covers every Google search domain that data/safesearch.json rewrites', () => {
    const ss = JSON.parse(readFileSync(new URL('../../data/safesearch.json', import.meta.url), 'utf8')) as {
      engines: { id: string; hosts: string[] }[];
    };
    const googleHosts = ss.engines.find((e) => e.id === 'google')!.hosts;
    for (const host of googleHosts) assert.equal(engines.engineFor(host, '/search')?.id, 'google', host);
  });

  it('is documented: docs/search-terms.md names every engine', () => {
    const doc = readFileSync(new URL('../../docs/search-terms.md', import.meta.url), 'utf8');
    for (const e of data.engines) assert.ok(doc.includes(`\`${e.id}\``), `docs/search-terms.md names \`${e.id}\``);
  });

  it('names every problem of a bad file', () => {
    const problems = problemsOf({
      version: 2,
      extra: 1,
      engines: [
        { id: 'Google', name: '', hosts: ['*.google.com', 'Google.com'], paths: ['search', '/a?b', '/x/'], terms: [] },
        { id: 'a', name: 'A', hosts: ['a.example', 'a.example'], paths: ['/'], terms: ['q'], safeSearch: { control: 'on', scope: 'x' } },
        {
          id: 'a',
          name: 'B',
          hosts: ['b.example'],
          paths: ['/'],
          terms: ['q'],
          safeSearch: { control: 'safeSearch', scope: 'search', on: {} },
        },
        {
          id: 'c',
          name: 'C',
          hosts: ['c.example'],
          paths: ['/'],
          terms: ['q'],
          safeSearch: {
            control: 'youtube',
            scope: 'everywhere',
            strict: { headers: { 'Bad Header': 'x' } },
            moderate: { params: { s: '\n' } },
          },
          source: 'http://insecure.example',
        },
      ],
    });
    for (const expected of [
      /^extra: unknown field/,
      /^version: must be 1/,
      /^engines\[0\]\.id/,
      /^engines\[0\]\.name/,
      /^engines\[0\]\.hosts\[0\]: "\*\.google\.com"/,
      /^engines\[0\]\.hosts\[1\]: "Google\.com"/,
      /^engines\[0\]\.paths\[0\]: "search"/,
      /^engines\[0\]\.paths\[1\]: "\/a\?b"/,
      /^engines\[0\]\.paths\[2\]: "\/x\/"/,
      /^engines\[0\]\.terms: must be a non-empty list/,
      /^engines\[1\]\.hosts\[1\]: "a\.example" is listed twice/,
      /^engines\[1\]\.safeSearch\.scope/,
      /^engines\[1\]\.safeSearch\.control/,
      /^engines\[2\]\.id: "a" is used twice/,
      /^engines\[2\]\.safeSearch\.on: must set at least one/,
      /^engines\[3\]\.safeSearch\.strict\.headers\.Bad Header/,
      /^engines\[3\]\.safeSearch\.moderate\.params\.s/,
      /^engines\[3\]\.source/,
    ])
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${String(expected)} in\n${problems.join('\n')}`,
      );
    assert.throws(() => parseSearchEngineData({ version: 1, engines: [] }), /must list at least one engine/);
    assert.throws(() => parseSearchEngineData(null), /must be an object with an "engines" array/);
  });
});

describe('extractSearchTerm', () => {
  it('reads the term from the main engines’ real address shapes', () => {
    const cases: [string, string, string][] = [
      ['https://www.google.com/search?q=how+to+tie+a+tie&oq=how+to&sourceid=chrome&ie=UTF-8', 'google', 'how to tie a tie'],
      ['https://www.google.co.uk/search?client=firefox-b-d&q=year+6+sats+revision', 'google', 'year 6 sats revision'],
      ['https://www.google.com.au/search?q=koala&tbm=isch', 'google', 'koala'],
      ['https://images.google.com/images?q=volcano', 'google', 'volcano'],
      ['https://news.google.com/search?q=election&hl=en-GB', 'google', 'election'],
      ['https://scholar.google.com/scholar?hl=en&q=photosynthesis', 'google', 'photosynthesis'],
      ['http://google.de/search?q=Stra%C3%9Fe', 'google', 'Straße'],
      ['https://www.bing.com/search?q=minecraft+servers&form=QBLH', 'bing', 'minecraft servers'],
      ['https://www.bing.com/images/search?q=cats&first=1', 'bing', 'cats'],
      ['https://www.bing.com/videos/search?q=dance', 'bing', 'dance'],
      ['https://duckduckgo.com/?q=roblox+codes&t=h_&ia=web', 'duckduckgo', 'roblox codes'],
      ['https://html.duckduckgo.com/html/?q=quiet+search', 'duckduckgo', 'quiet search'],
      ['https://lite.duckduckgo.com/lite/?q=lite', 'duckduckgo', 'lite'],
      ['https://www.youtube.com/results?search_query=skibidi+toilet', 'youtube', 'skibidi toilet'],
      ['https://m.youtube.com/results?search_query=%F0%9F%90%B1+videos', 'youtube', '🐱 videos'],
      ['https://uk.search.yahoo.com/search?p=weather+leeds&fr=yfp', 'yahoo', 'weather leeds'],
      ['https://images.search.yahoo.com/search/images?p=tigers', 'yahoo', 'tigers'],
      ['https://www.ecosia.org/search?method=index&q=trees', 'ecosia', 'trees'],
      ['https://search.brave.com/search?q=brave+query&source=web', 'brave', 'brave query'],
      ['https://www.startpage.com/do/search?query=private+search', 'startpage', 'private search'],
      ['https://www.startpage.com/sp/search?q=other+form', 'startpage', 'other form'],
      ['https://www.qwant.com/?q=qwant+term&t=web', 'qwant', 'qwant term'],
      ['https://yandex.com/search/?text=snow', 'yandex', 'snow'],
      ['https://ya.ru/search/?text=%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82', 'yandex', 'привет'],
      ['https://www.baidu.com/s?wd=%E4%BD%A0%E5%A5%BD', 'baidu', '你好'],
      ['https://www.baidu.com/s?ie=utf-8&word=panda', 'baidu', 'panda'],
      ['https://en.wikipedia.org/w/index.php?search=Battle+of+Hastings&title=Special%3ASearch', 'wikipedia', 'Battle of Hastings'],
      ['https://cy.wikipedia.org/wiki/Special:Search?search=Cymru', 'wikipedia', 'Cymru'],
      ['https://www.amazon.co.uk/s?k=lego+technic&crid=2', 'amazon', 'lego technic'],
      ['https://www.amazon.com/s?field-keywords=old+style', 'amazon', 'old style'],
      ['https://www.ebay.co.uk/sch/i.html?_nkw=pokemon+cards', 'ebay', 'pokemon cards'],
      ['https://www.tiktok.com/search?q=trend', 'tiktok', 'trend'],
      ['https://www.tiktok.com/search/video?q=dance+trend', 'tiktok', 'dance trend'],
      ['https://uk.pinterest.com/search/pins/?q=cake+ideas&rs=typed', 'pinterest', 'cake ideas'],
      ['https://www.reddit.com/search/?q=help', 'reddit', 'help'],
      ['https://x.com/search?q=news&src=typed_query', 'x', 'news'],
      ['https://www.mojeek.com/search?q=mojeek', 'mojeek', 'mojeek'],
      ['https://www.kiddle.co/s.php?q=dinosaurs', 'kiddle', 'dinosaurs'],
      ['https://search.aol.com/aol/search?q=aol', 'aol', 'aol'],
      ['https://www.ask.com/web?q=ask', 'ask', 'ask'],
    ];
    for (const [url, engine, expected] of cases) assert.deepEqual(term(url), { engine, term: expected }, url);
  });

  it('decodes + and %xx properly, and never throws on bad encodings', () => {
    assert.equal(term('https://www.google.com/search?q=a%2Bb+%3D+c')?.term, 'a+b = c');
    assert.equal(term('https://www.google.com/search?q=100%25+sure')?.term, '100% sure');
    assert.equal(term('https://www.google.com/search?q=50%+off')?.term, '50% off');
    assert.equal(term('https://www.google.com/search?q=%zz%4')?.term, '%zz%4');
    assert.equal(term('https://www.google.com/search?q=caf%E9')?.term, 'caf\uFFFD'); // Latin-1 byte: not UTF-8
    assert.equal(term('https://www.google.com/search?q=%26%23')?.term, '&#');
    assert.equal(term('https://www.google.com/search?q=caf%C3%A9&q=second')?.term, 'café'); // first wins
    assert.equal(term('https://www.google.com/search?%71=encoded+name')?.term, 'encoded name');
    assert.equal(decodeQueryValue('a%20b+c'), 'a b c');
    assert.equal(decodeQueryValue('plain'), 'plain');
    assert.equal(decodeQueryValue('é+%C3%A9'), 'é é');
  });

  it('cleans the term: whitespace collapsed, control characters out, bounded length', () => {
    assert.equal(term('https://www.google.com/search?q=++lots+++of%09space%0A%0D++')?.term, 'lots of space');
    assert.equal(term('https://www.google.com/search?q=zero%E2%80%8Bwidth%00nul')?.term, 'zero width nul');
    const long = 'x'.repeat(5000);
    const t = term(`https://www.google.com/search?q=${long}`)?.term;
    assert.equal(t?.length, MAX_SEARCH_TERM_LENGTH);
    const emoji = '%F0%9F%98%80'.repeat(400);
    assert.equal(Array.from(term(`https://www.google.com/search?q=${emoji}`)!.term).length, MAX_SEARCH_TERM_LENGTH);
  });

  it('ignores pages that are not searches', () => {
    for (const url of [
      'https://www.google.com/',
      'https://www.google.com/maps?q=leeds', // not a search path here
      'https://mail.google.com/mail/u/0/#search/q',
      'https://www.google.com/search',
      'https://www.google.com/search?q=',
      'https://www.google.com/search?q=+++',
      'https://www.google.com/search?oq=partial',
      'https://www.google.com/searchx?q=no',
      'https://www.google.com/search/extra?q=no',
      'https://en.wikipedia.org/w/index.php?title=Leeds&action=edit',
      'https://en.wikipedia.org/wiki/Leeds',
      'https://www.youtube.com/watch?v=dQw4w9WgXcQ&search_query=x',
      'https://www.amazon.co.uk/dp/B000?k=x',
      'https://notgoogle.com/search?q=x',
      'https://google.com.evil.example/search?q=x',
      'https://www.bbc.co.uk/search?q=news',
      'ftp://www.google.com/search?q=ftp',
      'not a url',
      '',
      'https://',
      'https://www.google.com:99999/search?q=bad+port',
      'https://www.google.com/#q=fragment+only',
    ])
      assert.equal(term(url), null, url);
  });

  it('accepts host spellings the URL parser normalises', () => {
    assert.equal(term('https://WWW.Google.COM/search?q=Case')?.term, 'Case');
    assert.equal(term('https://www.google.com./search?q=dot')?.term, 'dot');
    assert.equal(term('https://www.google.com:443/search?q=port')?.term, 'port');
    assert.equal(term('https://user:pw@www.google.com/search?q=userinfo')?.term, 'userinfo');
    assert.equal(term('https://www.google.com/search/?q=slash')?.term, 'slash');
    assert.equal(term('https://www.google.com/search?q=frag#fragment')?.term, 'frag');
  });
});

describe('enforceSafeSearch', () => {
  it('sets the engine’s parameter on search pages, once, keeping the rest of the address as written', () => {
    const r = engines.enforceSafeSearch('https://www.google.co.uk/search?q=a%20b&safe=off&safe=images&hl=en#top', ON);
    assert.equal(r.url, 'https://www.google.co.uk/search?q=a%20b&hl=en&safe=active&ssui=on#top');
    assert.equal(r.changed, true);
    assert.equal(r.engine, 'google');
    assert.deepEqual(r.headers, {});
    const again = engines.enforceSafeSearch(r.url, ON);
    assert.equal(again.changed, false, 'idempotent: a rewritten address is left alone');
    assert.equal(again.url, r.url);
  });

  it('uses each engine’s own switch', () => {
    const cases: [string, string][] = [
      ['https://www.bing.com/search?q=x', 'https://www.bing.com/search?q=x&adlt=strict'],
      ['https://www.bing.com/search?q=x&adlt=off', 'https://www.bing.com/search?q=x&adlt=strict'],
      ['https://duckduckgo.com/?q=x&kp=-2', 'https://duckduckgo.com/?q=x&kp=1'],
      ['https://duckduckgo.com/', 'https://duckduckgo.com/?kp=1'],
      ['https://uk.search.yahoo.com/search?p=x', 'https://uk.search.yahoo.com/search?p=x&vm=r'],
      ['https://search.brave.com/search?q=x', 'https://search.brave.com/search?q=x&safesearch=strict'],
      ['https://www.startpage.com/do/search?query=x', 'https://www.startpage.com/do/search?query=x&qadf=heavy'],
      ['https://www.qwant.com/?q=x&s=0', 'https://www.qwant.com/?q=x&s=2'],
      ['https://yandex.com/search/?text=x', 'https://yandex.com/search/?text=x&family=yes'],
      ['https://www.mojeek.com/search?q=x', 'https://www.mojeek.com/search?q=x&safe=1'],
    ];
    for (const [url, expected] of cases) {
      const r = engines.enforceSafeSearch(url, ON);
      assert.equal(r.url, expected, url);
      assert.equal(r.changed, true, url);
    }
  });

  it('adds the YouTube-Restrict header on every YouTube request, by the YouTube mode', () => {
    for (const url of [
      'https://www.youtube.com/results?search_query=x',
      'https://www.youtube.com/watch?v=abc',
      'https://m.youtube.com/',
      'https://youtubei.googleapis.com/youtubei/v1/search',
      'https://www.youtube-nocookie.com/embed/abc',
    ]) {
      const strict = engines.enforceSafeSearch(url, { safeSearch: false, youtube: 'strict' });
      assert.deepEqual(strict.headers, { 'YouTube-Restrict': 'Strict' }, url);
      assert.equal(strict.url, url);
      assert.equal(strict.changed, false);
      assert.deepEqual(engines.enforceSafeSearch(url, { safeSearch: true, youtube: 'moderate' }).headers, {
        'YouTube-Restrict': 'Moderate',
      });
      assert.deepEqual(engines.enforceSafeSearch(url, { safeSearch: true, youtube: 'off' }).headers, {});
    }
  });

  it('changes nothing when the policy says off, for other pages and hosts, engines without a switch, or bad URLs', () => {
    for (const [url, settings] of [
      ['https://www.google.com/search?q=x', OFF],
      ['https://www.google.com/maps', ON],
      ['https://mail.google.com/mail/', ON],
      ['https://www.bbc.co.uk/search?q=x', ON],
      ['https://www.ecosia.org/search?q=x', ON],
      ['https://www.baidu.com/s?wd=x', ON],
      ['https://www.amazon.co.uk/s?k=x', ON],
      ['not a url', ON],
      ['https://www.google.com/search?q=x&safe=active&ssui=on', ON],
    ] as const) {
      const r = engines.enforceSafeSearch(url, settings);
      assert.equal(r.url, url, url);
      assert.equal(r.changed, false, url);
      assert.deepEqual(r.headers, {}, url);
    }
  });

  it('keeps odd queries intact', () => {
    assert.equal(
      engines.enforceSafeSearch('https://www.bing.com/search?q=a&&b=%ZZ&flag', ON).url,
      'https://www.bing.com/search?q=a&b=%ZZ&flag&adlt=strict',
    );
    assert.equal(engines.enforceSafeSearch('https://www.bing.com/search?', ON).url, 'https://www.bing.com/search?adlt=strict');
    assert.equal(engines.enforceSafeSearch('https://www.bing.com/search#x', ON).url, 'https://www.bing.com/search?adlt=strict#x');
  });
});
