import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  createIllegalTier,
  DEFAULT_ILLEGAL_CANARY,
  illegalUrlDigest,
  illegalUrlKey,
  normaliseIllegalUrl,
  parseIllegalCanaries,
  type IllegalListEntries,
} from './illegal-tier.ts';

const key = (raw: string) => {
  const n = normaliseIllegalUrl(raw);
  return n ? illegalUrlKey(n) : null;
};

const list = (source: 'iwf' | 'ctiru', plain: string[], hashed: { sha256?: string[]; md5?: string[] } = {}): IllegalListEntries => ({
  source,
  plain: plain.map((p) => key(p)!),
  sha256: hashed.sha256 ?? [],
  md5: hashed.md5 ?? [],
});

describe('normaliseIllegalUrl', () => {
  it('drops scheme, userinfo, port, fragment, www. and trailing slashes; lower-cases the host only', () => {
    assert.equal(key('HTTP://user:pw@WWW.Example.COM:8080/a/B/?x=1#frag'), 'example.com/a/B?x=1');
    assert.equal(key('example.com'), 'example.com');
    assert.equal(key('example.com/'), 'example.com');
    assert.equal(key('https://example.com./dir//'), 'example.com/dir');
    assert.equal(key('example.com/a%2fb'), 'example.com/a%2Fb');
    assert.equal(key('example.com/?'), 'example.com');
  });

  it('turns IDN hosts into punycode and refuses what is not a URL', () => {
    assert.equal(key('bücher.example/x'), 'xn--bcher-kva.example/x');
    for (const bad of ['', '   ', 'has space.example', 'http://', 'exa mple.com/x', 'a..b/x', `${'a'.repeat(300)}.com`]) {
      assert.equal(key(bad), null, bad);
    }
  });
});

describe('IllegalTier', () => {
  const tier = createIllegalTier(
    [
      list('iwf', ['abuse.test/images/set1/', 'whole-host.test', 'page.test/view.php?id=42']),
      list('ctiru', ['https://terror.test/videos/watch?v=abc']),
      {
        source: 'iwf',
        plain: [],
        sha256: [illegalUrlDigest('sha256', 'hashed.test/folder/item.html')!],
        md5: [illegalUrlDigest('md5', 'http://md5-host.test/')!.toUpperCase()],
      },
    ],
    { canaries: [DEFAULT_ILLEGAL_CANARY] },
  );

  it('a path entry covers itself and paths under it at a segment boundary, any scheme or case of host', () => {
    assert.deepEqual(tier.matchUrl('http://abuse.test/images/set1'), { source: 'iwf', kind: 'plain' });
    assert.deepEqual(tier.matchUrl('https://WWW.ABUSE.test:443/images/set1/photo.jpg?size=big'), { source: 'iwf', kind: 'plain' });
    assert.equal(tier.matchUrl('http://abuse.test/images/set10'), null);
    assert.equal(tier.matchUrl('http://abuse.test/images'), null);
    assert.equal(tier.matchUrl('http://abuse.test/IMAGES/set1'), null, 'paths are case-sensitive');
  });

  it('a host entry covers the host, its subdomains and every path', () => {
    for (const u of ['whole-host.test', 'http://whole-host.test/', 'https://a.b.whole-host.test/x/y?z', 'WHOLE-HOST.TEST.']) {
      assert.ok(tier.matchUrl(u), u);
    }
    assert.deepEqual(tier.matchHost('cdn.whole-host.test'), { source: 'iwf', kind: 'plain' });
    assert.equal(tier.matchHost('other-whole-host.test'), null);
  });

  it('an entry with a query matches that URL only; host lookups never match URL entries', () => {
    assert.ok(tier.matchUrl('page.test/view.php?id=42'));
    assert.equal(tier.matchUrl('page.test/view.php?id=43'), null);
    assert.equal(tier.matchUrl('page.test/view.php'), null);
    assert.equal(tier.matchHost('page.test'), null);
    assert.equal(tier.matchHost('abuse.test'), null);
    assert.deepEqual(tier.matchUrl('terror.test/videos/watch?v=abc'), { source: 'ctiru', kind: 'plain' });
  });

  it('matches hashed entries (SHA-256 and MD5, any case of hex) by the normalised URL', () => {
    assert.deepEqual(tier.matchUrl('https://www.hashed.test/folder/item.html'), { source: 'iwf', kind: 'sha256' });
    assert.deepEqual(tier.matchUrl('hashed.test/folder/item.html/'), { source: 'iwf', kind: 'sha256' });
    assert.equal(tier.matchUrl('hashed.test/folder'), null);
    assert.deepEqual(tier.matchHost('sub.md5-host.test'), { source: 'iwf', kind: 'md5' });
    // the digest is of the documented normal form, nothing else
    assert.equal(
      illegalUrlDigest('sha256', 'HTTPS://WWW.hashed.test/folder/item.html#x'),
      createHash('sha256').update('hashed.test/folder/item.html').digest('hex'),
    );
  });

  it('always holds the canaries, and the self-check proves they are blocked', () => {
    assert.deepEqual(tier.matchHost(DEFAULT_ILLEGAL_CANARY), { source: 'canary', kind: 'plain' });
    const check = tier.selfCheck();
    assert.equal(check.ok, true);
    assert.deepEqual(check.canaries, [{ entry: DEFAULT_ILLEGAL_CANARY, blocked: true }]);
    assert.deepEqual(check.entries, { iwf: 5, ctiru: 1, canary: 1 });
    const empty = createIllegalTier([], { canaries: [] });
    assert.ok(empty.matchHost(DEFAULT_ILLEGAL_CANARY), 'no canaries given: the default one is used');
    assert.equal(empty.selfCheck().ok, true);
  });

  it('cannot be switched off: no such method, frozen, and deaf to changes to the arrays it was built from', () => {
    const plain = [key('mutable.test')!];
    const t = createIllegalTier([{ source: 'iwf', plain, sha256: [], md5: [] }], { canaries: ['canary.test'] });
    const methods = Object.keys(t).filter((k) => typeof (t as unknown as Record<string, unknown>)[k] === 'function');
    assert.deepEqual(methods.sort(), ['matchHost', 'matchUrl', 'selfCheck']);
    assert.ok(Object.isFrozen(t) && Object.isFrozen(t.entries) && Object.isFrozen(t.canaries));
    assert.throws(() => {
      (t as unknown as Record<string, unknown>).matchHost = () => null;
    }, TypeError);
    assert.throws(() => (t.canaries as string[]).pop(), TypeError);
    plain.length = 0;
    assert.ok(t.matchHost('mutable.test'));
    assert.ok(t.matchHost('canary.test'));
  });

  it('ignores junk input without throwing', () => {
    for (const junk of ['', ' ', '..', 'http://', `${'x.'.repeat(200)}test`, '[::1]', 'a b', '%%%']) {
      assert.doesNotThrow(() => tier.matchUrl(junk));
      assert.doesNotThrow(() => tier.matchHost(junk));
    }
    const deep = `abuse.test/images/set1/${'d/'.repeat(100)}x`;
    assert.ok(tier.matchUrl(deep), 'a very deep path still matches at its first segments');
  });
});

describe('parseIllegalCanaries', () => {
  it('splits HAVEN_ILLEGAL_CANARIES, defaults when empty, refuses junk', () => {
    assert.deepEqual(parseIllegalCanaries(undefined), [DEFAULT_ILLEGAL_CANARY]);
    assert.deepEqual(parseIllegalCanaries(' , '), [DEFAULT_ILLEGAL_CANARY]);
    assert.deepEqual(parseIllegalCanaries('a.test, http://b.test/page '), ['a.test', 'http://b.test/page']);
    assert.throws(() => parseIllegalCanaries('ok.test,not a host'), /not hosts or URLs: not a host/);
  });
});
