import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DomainError } from './errors.ts';
import {
  CIRCUMVENTION_ANSWER,
  CIRCUMVENTION_KIND,
  CIRCUMVENTION_KINDS,
  createCircumventionIndex,
  parseCircumventionData,
} from './circumvention.ts';

const json: unknown = JSON.parse(readFileSync(new URL('../../data/circumvention.json', import.meta.url), 'utf8'));
const data = parseCircumventionData(json);
const index = createCircumventionIndex(data);

const problemsOf = (input: unknown): string[] => {
  try {
    parseCircumventionData(input);
    return [];
  } catch (e) {
    assert.ok(e instanceof DomainError);
    return (e.details as { path: string; message: string }[]).map((p) => `${p.path}: ${p.message}`);
  }
};

const valid = {
  canaryDomains: ['use-application-dns.net'],
  privateRelay: ['mask.icloud.com'],
  dohResolvers: ['dns.google'],
  echNote: 'ECH.',
};

describe('circumvention data (data/circumvention.json)', () => {
  it('is valid and holds the names the standards ask about', () => {
    assert.deepEqual(data.canaryDomains, ['use-application-dns.net']);
    assert.deepEqual(data.privateRelay, ['mask.icloud.com', 'mask-h2.icloud.com']);
    assert.ok(data.dohResolvers.length >= 40, `${data.dohResolvers.length} DoH resolvers`);
    for (const name of [
      'dns.google',
      'cloudflare-dns.com',
      'mozilla.cloudflare-dns.com',
      'dns.quad9.net',
      'doh.opendns.com',
      'dns.nextdns.io',
      'dns.adguard-dns.com',
      'doh.cleanbrowsing.org',
    ]) {
      assert.ok(data.dohResolvers.includes(name), name);
    }
    assert.match(data.echNote, /ECH/);
  });

  it('answers the canary, Private Relay and DoH resolvers by kind', () => {
    assert.deepEqual(index.check('use-application-dns.net'), { kind: 'canary', matched: 'use-application-dns.net' });
    assert.deepEqual(index.check('mask.icloud.com'), { kind: 'private-relay', matched: 'mask.icloud.com' });
    assert.deepEqual(index.check('mask-h2.icloud.com'), { kind: 'private-relay', matched: 'mask-h2.icloud.com' });
    assert.deepEqual(index.check('dns.google'), { kind: 'doh-resolver', matched: 'dns.google' });
    assert.deepEqual(index.check('doh.opendns.com'), { kind: 'doh-resolver', matched: 'doh.opendns.com' });
  });

  it('covers subdomains, the most specific entry winning', () => {
    assert.deepEqual(index.check('dns64.dns.google'), { kind: 'doh-resolver', matched: 'dns.google' });
    assert.deepEqual(index.check('abc123.dns.nextdns.io'), { kind: 'doh-resolver', matched: 'dns.nextdns.io' });
    assert.deepEqual(index.check('mozilla.cloudflare-dns.com'), { kind: 'doh-resolver', matched: 'mozilla.cloudflare-dns.com' });
    assert.deepEqual(index.check('chrome.cloudflare-dns.com'), { kind: 'doh-resolver', matched: 'cloudflare-dns.com' });
    assert.deepEqual(index.check('x.use-application-dns.net'), { kind: 'canary', matched: 'use-application-dns.net' });
  });

  it('matches whole labels only: look-alikes and parents are not caught', () => {
    for (const host of [
      'notdns.google.com.example',
      'notdns.google',
      'dns.google.example',
      'xdns.google',
      'google',
      'icloud.com',
      'www.icloud.com',
      'mask.icloud.com.evil.example',
      'application-dns.net',
      'opendns.com',
      'www.cloudflare.com',
      'quad9.net',
      '',
      '.',
    ]) {
      assert.equal(index.check(host), null, host);
    }
  });

  it('ignores case and a trailing dot', () => {
    assert.equal(index.check('USE-Application-DNS.net.')?.kind, 'canary');
    assert.equal(index.check('Mask.iCloud.com.')?.kind, 'private-relay');
    assert.equal(index.check('DNS64.DNS.GOOGLE')?.matched, 'dns.google');
  });

  it('exports the kinds and what each one is answered with', () => {
    assert.deepEqual(CIRCUMVENTION_KINDS, ['canary', 'private-relay', 'doh-resolver']);
    assert.deepEqual(Object.values(CIRCUMVENTION_KIND), CIRCUMVENTION_KINDS);
    assert.deepEqual(CIRCUMVENTION_ANSWER, { canary: 'nxdomain', 'private-relay': 'nxdomain', 'doh-resolver': 'block' });
  });
});

describe('parseCircumventionData', () => {
  it('accepts the smallest valid file', () => {
    assert.deepEqual(parseCircumventionData(valid), valid);
  });

  it('refuses malformed data, naming each problem', () => {
    assert.deepEqual(
      problemsOf({
        canaryDomains: [],
        privateRelay: ['Mask.iCloud.com', 'mask.icloud.com.'],
        dohResolvers: ['dns.google', 'dns.google', 'https://dns.quad9.net/dns-query', 'mask.icloud.com', 1],
        extra: true,
      }),
      [
        'extra: unknown field',
        'canaryDomains: must be a non-empty list of domains',
        'privateRelay[0]: "Mask.iCloud.com" must be a lower-case domain without a trailing dot, such as "dns.google"',
        'privateRelay[1]: "mask.icloud.com." must be a lower-case domain without a trailing dot, such as "dns.google"',
        'dohResolvers[1]: "dns.google" is already listed at dohResolvers[0]',
        'dohResolvers[2]: "https://dns.quad9.net/dns-query" must be a lower-case domain without a trailing dot, such as "dns.google"',
        'dohResolvers[4]: 1 must be a lower-case domain without a trailing dot, such as "dns.google"',
        'echNote: must be text explaining how ECH is handled',
      ],
    );
    assert.deepEqual(problemsOf({ ...valid, dohResolvers: ['use-application-dns.net'] }), [
      'dohResolvers[0]: "use-application-dns.net" is already listed at canaryDomains[0]',
    ]);
  });

  it('says what is wrong in the message itself', () => {
    assert.throws(() => parseCircumventionData({ ...valid, privateRelay: undefined }), {
      code: 'VALIDATION_FAILED',
      message: 'The circumvention data is not valid: privateRelay: must be a non-empty list of domains',
    });
    assert.throws(() => parseCircumventionData(null), /must be an object/);
  });
});

describe('docs/safesearch.md', () => {
  it('names the canary and Private Relay hosts and explains ECH', () => {
    const doc = readFileSync(new URL('../../docs/safesearch.md', import.meta.url), 'utf8');
    for (const name of [...data.canaryDomains, ...data.privateRelay, 'data/circumvention.json', 'ECH']) assert.ok(doc.includes(name), name);
  });
});
