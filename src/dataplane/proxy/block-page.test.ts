import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientIdentity } from '../../core/index.ts';
import { defaultBlockPage, escapeHtml, type BlockPageInfo } from './block-page.ts';

const identity: ClientIdentity = { schoolId: 's', person: null, personId: null, deviceId: null, place: null, via: 'default' };
const info = (over: Partial<BlockPageInfo> = {}): BlockPageInfo => ({
  host: 'bet-example.test',
  url: 'http://bet-example.test/',
  category: 'gambling',
  action: 'block',
  identity,
  reason: 'Gambling is blocked for guests.',
  illegal: false,
  clientIp: '10.0.0.5',
  continueUrl: null,
  ...over,
});

describe('defaultBlockPage', () => {
  it('explains the block with the category, and no script', () => {
    const page = defaultBlockPage(info());
    assert.equal(page.status, 403);
    assert.match(page.headers['content-type'] ?? '', /text\/html/);
    assert.match(page.headers['content-security-policy'] ?? '', /default-src 'none'/);
    assert.match(page.body, /This site is blocked/);
    assert.match(page.body, /Gambling/);
    assert.doesNotMatch(page.body, /<script/i);
  });

  it('escapes whatever the requested URL holds', () => {
    const page = defaultBlockPage(info({ url: 'http://bet-example.test/"><script>alert(1)</script>', host: 'x"<y' }));
    assert.doesNotMatch(page.body, /<script>/);
    assert.match(page.body, /&lt;script&gt;/);
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;');
  });

  it('cuts long URLs short', () => {
    const page = defaultBlockPage(info({ url: `http://bet-example.test/${'a'.repeat(10_000)}` }));
    assert.ok(page.body.length < 3000);
  });

  it('offers a way on for a warning', () => {
    const page = defaultBlockPage(info({ action: 'warn', continueUrl: 'http://haven-continue.invalid/?t=a&b' }));
    assert.equal(page.status, 200);
    assert.match(page.body, /href="http:\/\/haven-continue\.invalid\/\?t=a&amp;b"/);
    assert.match(page.body, /continue/);
  });

  it('names only the category for the illegal tier', () => {
    const page = defaultBlockPage(info({ category: 'illegal', illegal: true, reason: 'This page is on a list of illegal content.' }));
    assert.doesNotMatch(page.body, /iwf|ctiru/i);
  });
});
