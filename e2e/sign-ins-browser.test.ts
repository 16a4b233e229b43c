/**
 * The sign-in feed end to end, in a real Chromium and a real `haven start`: the administrator
 * makes a key on the Sign-ins page (shown once), a "logon script" (this test, over HTTP) sends a
 * Year 5 pupil's sign-in for 127.0.0.1 with it, DNS-over-HTTPS questions from that address are
 * then filtered as the pupil (a games site blocked for Key Stage 2, only warned about for guests),
 * the page lists the sign-in with the pupil's name, and once the key is revoked the script is
 * refused. Checked with axe-core.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, chromiumSkip, launchChromium, nav, signIn } from '../test-support/chromium.ts';
import { havenCli, startHaven, type RunningHaven } from '../test-support/processes.ts';
import { ensureWebBuilt } from '../test-support/web-build.ts';

const skip = chromiumSkip();
const ADMIN = 'admin@oakfield.example';
const PASSWORD = 'correct horse battery staple';
/** In the fixture lists' ut1/games: blocked for Key Stage 2, a warning for guests. */
const GAMES_SITE = 'fun-games.example';

describe('sign-in feed in Chromium', { skip }, () => {
  let haven: RunningHaven;
  let dataDir: string;
  let browser: Browser;
  let page: Page;
  let key = '';
  let pupil = { upn: '', name: '' };

  /** Whether the DNS filter blocks the games site for whoever is at 127.0.0.1 (a block answers 0.0.0.0). */
  const gamesBlocked = async (): Promise<boolean> => {
    const q = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: GAMES_SITE }] });
    const res = await fetch(`${haven.url}/dns-query?dns=${q.toString('base64url')}`, { headers: { accept: 'application/dns-message' } });
    assert.equal(res.status, 200);
    const answer = dnsPacket.decode(Buffer.from(await res.arrayBuffer()));
    return (answer.answers ?? []).some((a) => a.type === 'A' && (a as { data: string }).data === '0.0.0.0');
  };

  const send = (events: unknown[], withKey = key) =>
    fetch(`${haven.url}/api/v1/identity/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${withKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });

  before(async () => {
    ensureWebBuilt();
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-sign-ins-'));
    havenCli(['lists', 'import', '--from', path.resolve('test-fixtures/lists/tree'), '--reason', 'Lists for the sign-in test'], dataDir);
    haven = await startHaven(['start'], {
      HAVEN_DATA_DIR: dataDir,
      // Nothing answers here: a warned (allowed) name is SERVFAIL, a blocked one is 0.0.0.0 either way.
      HAVEN_DNS_UPSTREAM: '127.0.0.1:9',
      HAVEN_BOOTSTRAP_ADMIN_EMAIL: ADMIN,
      HAVEN_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      HAVEN_LISTS_URL: '',
      HAVEN_ILLEGAL_CANARIES: '',
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
  });
  after(async () => {
    await browser?.close();
    await haven?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('makes a key on the Sign-ins page and shows it once', async () => {
    await page.goto(haven.url);
    await signIn(page, ADMIN, PASSWORD);
    const schools = await page.request.get(`${haven.url}/api/v1/schools`);
    const schoolId = ((await schools.json()) as { items: { id: string }[] }).items[0]!.id;
    const people = await page.request.get(`${haven.url}/api/v1/schools/${schoolId}/people?kind=pupil&yearGroup=5&limit=1`);
    const found = ((await people.json()) as { items: { upn: string; firstName: string; lastName: string }[] }).items[0]!;
    pupil = { upn: found.upn, name: `${found.firstName} ${found.lastName}` };
    assert.ok(pupil.upn, 'a Year 5 pupil with a UPN in the demo school');

    await nav(page, 'Sign-ins').click();
    await page.getByRole('heading', { name: 'Sign-ins', level: 1 }).waitFor();
    await page.getByText('No sign-ins have arrived yet.').waitFor();
    await page.getByRole('button', { name: 'Make a key' }).click();
    await page.getByRole('button', { name: 'Make key' }).click();
    await page.getByText('Name the key after what will use it').first().waitFor();
    await page.getByLabel('Name').fill('Suite logon script');
    await page.getByRole('button', { name: 'Make key' }).click();
    key = ((await page.getByTestId('integration-key').textContent()) ?? '').trim();
    assert.match(key, /^hvn_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await axeViolations(page), []);
    await page.getByRole('button', { name: 'Done' }).click();
    const row = page.getByRole('row', { name: /Suite logon script/ });
    assert.match((await row.textContent()) ?? '', new RegExp(`${key.slice(0, 12)}…`));
    assert.match((await row.textContent()) ?? '', /Never/);
    assert.ok(!(await page.content()).includes(key.slice(12)), 'not shown again');
  });

  it('filters 127.0.0.1 as the pupil once the script says they signed in there, and as a guest after they sign out', async () => {
    assert.equal(await gamesBlocked(), false, 'a guest is only warned');
    const res = await send([{ type: 'login', ip: '127.0.0.1', user: pupil.upn.toLowerCase(), source: 'logon-script' }]);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { accepted: 1, results: [{ matched: true }] });
    assert.equal(await gamesBlocked(), true, 'Key Stage 2: blocked');

    await page.getByRole('button', { name: 'Refresh' }).click();
    const signInRow = page.getByRole('row', { name: new RegExp(pupil.name) });
    await signInRow.waitFor();
    assert.match((await signInRow.textContent()) ?? '', /Sign-in.*127\.0\.0\.1.*Logon script/);
    assert.deepEqual(await axeViolations(page), []);

    const out = await send([{ type: 'logout', ip: '127.0.0.1', user: pupil.upn, source: 'logon-script' }]);
    assert.equal(out.status, 200);
    assert.equal(await gamesBlocked(), false, 'a guest again');
  });

  it('refuses the script once the key is revoked', async () => {
    await page.getByRole('button', { name: 'Revoke Suite logon script' }).click();
    await page.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByText('Revoked Suite logon script').waitFor();
    const res = await send([{ type: 'login', ip: '127.0.0.1', user: pupil.upn }]);
    assert.equal(res.status, 401);
    assert.equal(await gamesBlocked(), false);
  });
});
