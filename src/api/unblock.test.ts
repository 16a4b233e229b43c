/**
 * Block pages and what their buttons send: the words fit the child, nothing from the address can
 * inject markup, the illegal tier names nothing; a pupil asks for a site to be unblocked from a
 * plain form (signed ticket, once), IT sees and answers the queue ("allowed" adds the site to the
 * allow list as a new policy version), and "tell a trusted adult" reaches the DSL team only, with
 * every listing audited.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, roleGrant, type Harness } from '../../test-support/api-harness.ts';
import { renderBlockPage } from './index.ts';

type Json = Record<string, any>;

describe('block pages and unblock requests', () => {
  let h: Harness;
  let it_manager: string;
  let dsl: string;
  let office: string;
  const ticket = (over: Partial<Parameters<Harness['services']['unblock']['ticketFor']>[0]> = {}) =>
    h.services.unblock.ticketFor({
      schoolId: h.schoolA.id,
      host: 'games.example',
      url: 'http://games.example/play?level=1',
      category: 'games',
      action: 'block',
      personId: h.pupilA.id,
      deviceId: null,
      clientIp: '10.0.0.5',
      illegal: false,
      at: h.clock.now(),
      ...over,
    });
  const form = (fields: Record<string, string>) =>
    h.app.inject({
      method: 'POST',
      url: '/unblock',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(fields).toString(),
    });
  const get = (cookie: string, url: string) => h.app.inject({ method: 'GET', url, headers: { cookie } });
  const queue = (cookie: string) => get(cookie, `/api/v1/schools/${h.schoolA.id}/unblock-requests`);

  before(async () => {
    h = await createHarness();
    it_manager = (await h.sessionFor([roleGrant('it_manager', h.schoolA.id)])).cookie;
    dsl = (await h.sessionFor([roleGrant('dsl', h.schoolA.id)])).cookie;
    office = (await h.sessionFor([roleGrant('office', h.schoolA.id)])).cookie;
  });
  after(() => h.close());

  it('words a block page for who is asking, escapes the address, and names nothing on the illegal tier', () => {
    const base = {
      host: 'games.example',
      url: 'http://games.example/"><script>alert(1)</script>',
      category: 'games',
      action: 'block' as const,
      illegal: false,
      publicUrl: 'http://haven.test',
      ticket: 'a.b',
      schoolMessage: 'Ask Mr Patel <in the library>',
      continueUrl: null,
    };
    const primary = renderBlockPage({ ...base, audience: 'primary' });
    assert.equal(primary.status, 403);
    assert.match(primary.body, /This website is not for school/);
    assert.match(primary.body, /Games/);
    assert.match(primary.body, /I need it for my work/);
    assert.match(primary.body, /Childline/);
    assert.ok(!primary.body.includes('<script>'), 'no markup from the address');
    assert.match(primary.body, /Ask Mr Patel &lt;in the library&gt;/);
    assert.match(primary.headers['content-security-policy']!, /default-src 'none'/);
    const staff = renderBlockPage({ ...base, audience: 'adult' });
    assert.match(staff.body, /blocks <strong>Games<\/strong> for you/);
    assert.ok(!staff.body.includes('Childline'));
    const illegal = renderBlockPage({ ...base, host: 'bad.example', url: null, category: 'illegal', illegal: true, audience: 'secondary' });
    assert.match(illegal.body, /This page is not allowed/);
    assert.ok(!illegal.body.includes('bad.example'), 'the address is not repeated');
    assert.ok(!illegal.body.includes('kind=unblock'), 'no unblock request for the illegal tier');
    assert.match(illegal.body, /kind=trusted_adult/);
    const warn = renderBlockPage({ ...base, action: 'warn', continueUrl: 'http://haven.test/continue?x=1&y=2', audience: 'secondary' });
    assert.equal(warn.status, 200);
    assert.match(warn.body, /href="http:\/\/haven.test\/continue\?x=1&amp;y=2"/);
  });

  it('a warning page’s "go on" link records the choice and opens the site for an hour', async () => {
    const page = renderBlockPage({
      host: 'videos.example',
      url: null,
      category: 'streaming',
      action: 'warn',
      illegal: false,
      publicUrl: 'http://haven.test',
      ticket: ticket({ action: 'warn', host: 'videos.example' }),
      schoolMessage: null,
      continueUrl: null,
      audience: 'secondary',
    });
    const href = /href="http:\/\/haven\.test(\/continue\?t=[^"]+)"/.exec(page.body)?.[1];
    assert.ok(href, 'the default continue link is Haven’s');
    const res = await h.app.inject({ method: 'GET', url: href.replace(/&amp;/g, '&') });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /You can go on/);
    assert.ok(h.services.warnContinues.allows(h.schoolA.id, h.pupilA.id, '10.0.0.5', 'videos.example'));
    const blockTicket = await h.app.inject({ method: 'GET', url: `/continue?t=${encodeURIComponent(ticket())}` });
    assert.equal(blockTicket.statusCode, 400, 'a block page cannot be continued past');
  });

  it('serves the form for a signed ticket and refuses a forged or edited one', async () => {
    const t = ticket({ url: 'http://games.example/<b>bold</b>' });
    const res = await h.app.inject({ method: 'GET', url: `/unblock?kind=unblock&t=${encodeURIComponent(t)}` });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-security-policy'] as string, /default-src 'none'/);
    assert.match(res.body, /games\.example/);
    assert.match(res.body, /Why do you need this site\?/);
    const [body, sig] = t.split('.');
    const edited = `${Buffer.from(Buffer.from(body!, 'base64url').toString().replace('games.example', 'bank.example')).toString('base64url')}.${sig}`;
    for (const bad of [edited, `${t}x`, 'nonsense', '']) {
      const r = await h.app.inject({ method: 'GET', url: `/unblock?kind=unblock&t=${encodeURIComponent(bad)}` });
      assert.equal(r.statusCode, 400, bad.slice(0, 20));
      assert.match(r.body, /does not work any more/);
    }
  });

  it('takes an unblock request once, with a reason; old tickets have expired', async () => {
    const t = ticket();
    const empty = await form({ t, kind: 'unblock', message: '  ' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /Say why you need the site/);
    const sent = await form({ t, kind: 'unblock', message: 'Maths homework <game>' });
    assert.equal(sent.statusCode, 200, sent.body);
    assert.match(sent.body, /Your request has been sent/);
    assert.equal((await form({ t, kind: 'unblock', message: 'again' })).statusCode, 409);
    const old = ticket({ at: new Date(h.clock.now().getTime() - 25 * 3600_000) });
    assert.equal((await form({ t: old, kind: 'unblock', message: 'late' })).statusCode, 400);
    assert.equal((await form({ t: ticket(), kind: 'sideways', message: 'x' })).statusCode, 400);
  });

  it('lets IT see and answer the queue; allowing adds the site to the allow list', async () => {
    const list = await queue(it_manager);
    assert.equal(list.statusCode, 200, list.body);
    const items = list.json<Json>().items;
    const mine = items.find((i: Json) => i.message === 'Maths homework <game>');
    assert.ok(mine);
    assert.equal(mine.personName, 'Ada Lovelace');
    assert.equal(mine.host, 'games.example');
    assert.equal(mine.status, 'open');
    assert.equal(list.json<Json>().trustedAdultVisible, false);
    assert.equal((await queue(office)).statusCode, 403);
    const answer = (cookie: string, body: unknown) =>
      h.app.inject({
        method: 'POST',
        url: `/api/v1/schools/${h.schoolA.id}/unblock-requests/${mine.id}/answer`,
        headers: { cookie, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    assert.equal((await answer(it_manager, { outcome: 'declined', note: '' })).statusCode, 400, 'declining needs a reason');
    assert.equal((await answer(it_manager, { outcome: 'seen', note: '' })).statusCode, 400, 'not an answer to a request');
    const ok = await answer(it_manager, { outcome: 'allowed', note: 'Used in Year 5 maths' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json<Json>().request.status, 'allowed');
    const { policy, reason } = await h.services.policies.schoolPolicy(h.schoolA.id);
    assert.ok(policy.allowList?.some((e) => e.pattern === 'games.example'));
    assert.match(reason ?? '', /Unblock request from Ada Lovelace: Used in Year 5 maths/);
    assert.equal((await answer(it_manager, { outcome: 'declined', note: 'x' })).statusCode, 409);
  });

  it('takes "tell a trusted adult" even from the illegal tier, and shows it to the DSL team only, audited', async () => {
    const t = ticket({ illegal: true, category: 'illegal', host: 'bad.example', url: 'http://bad.example/x' });
    const page = await h.app.inject({ method: 'GET', url: `/unblock?kind=unblock&t=${encodeURIComponent(t)}` });
    assert.match(page.body, /Only the school’s safeguarding team can read it/, 'falls back to the trusted-adult form');
    assert.ok(!page.body.includes('bad.example'));
    assert.equal((await form({ t, kind: 'unblock', message: 'please' })).statusCode, 400);
    assert.equal((await form({ t, kind: 'trusted_adult', message: 'Someone sent me a link that scared me' })).statusCode, 200);
    const it = (await queue(it_manager)).json<Json>();
    assert.ok(!JSON.stringify(it).includes('scared me'), 'IT never sees it');
    const seen = (await queue(dsl)).json<Json>();
    assert.equal(seen.trustedAdultVisible, true);
    const msg = seen.items.find((i: Json) => i.kind === 'trusted_adult');
    assert.equal(msg.message, 'Someone sent me a link that scared me');
    assert.equal(msg.host, null);
    assert.equal(msg.url, null);
    const audit = await h.db.store.audit.list({ limit: 20 });
    assert.ok(audit.some((a) => a.action === 'trusted_adult_message.listed'));
    const byIt = await h.app.inject({
      method: 'POST',
      url: `/api/v1/schools/${h.schoolA.id}/unblock-requests/${msg.id}/answer`,
      headers: { cookie: it_manager, 'content-type': 'application/json' },
      payload: JSON.stringify({ outcome: 'seen', note: '' }),
    });
    assert.equal(byIt.statusCode, 404, 'IT cannot even tell it exists');
  });
});
