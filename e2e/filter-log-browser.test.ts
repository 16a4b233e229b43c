/**
 * The DNS log in a real Chromium: an administrator sees the log with the person hidden on a
 * safeguarding entry, searches it, pages back, turns on Live and sees a question asked over
 * DNS-over-HTTPS appear (without the page jumping when scrolled down); the DSL sees who asked.
 * Both views are checked with axe-core.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import dnsPacket from 'dns-packet';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { axeViolations, chromiumSkip, launchChromium, nav, signIn } from '../test-support/chromium.ts';
import { havenCli, startHaven, type RunningHaven } from '../test-support/processes.ts';
import { ensureWebBuilt } from '../test-support/web-build.ts';

const skip = chromiumSkip();
const ADMIN = 'admin@oakfield.example';
const ADMIN_PASSWORD = 'correct horse battery staple';
const DSL = 'dsl@oakfield.example';
const DSL_PASSWORD = 'the dsl keeps four words';
const LISTS = path.resolve('test-fixtures/lists');

describe('DNS log in Chromium', { skip }, () => {
  let haven: RunningHaven;
  let dataDir: string;
  let browser: Browser;
  let page: Page;
  let dslContext: BrowserContext | undefined;
  let dslPage: Page;
  let schoolId = '';
  let pupil = { id: '', name: '' };

  /** Asks Haven's DNS filter a question over DoH, as a laptop at home would. */
  const askDoh = async (name: string) => {
    const query = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
    const res = await fetch(`${haven.url}/dns-query?dns=${query.toString('base64url')}`, {
      headers: { accept: 'application/dns-message' },
    });
    assert.equal(res.status, 200);
  };

  /** Waits for the DNS filter's sink (which writes every 250 ms) to store a question. */
  const storedEvent = async (host: string) => {
    const db = new Database(path.join(dataDir, 'haven.db'), { readonly: true });
    try {
      for (let i = 0; i < 50; i++) {
        if (db.prepare('SELECT 1 FROM filter_event WHERE host = ?').get(host)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`${host} was never stored`);
    } finally {
      db.close();
    }
  };

  /** Writes events straight into the running Haven's database (the DNS filter's sink does the same). */
  const insertEvents = (rows: Record<string, unknown>[]) => {
    const db = new Database(path.join(dataDir, 'haven.db'));
    try {
      const insert = db.prepare(
        `INSERT INTO filter_event (at, source, school_id, client_ip, person_id, device_id, profile, host, url, qtype, category, list, action, layer, rule_id, flagged, latency_us)
         VALUES (@at, @source, @school_id, @client_ip, @person_id, @device_id, @profile, @host, NULL, @qtype, @category, @list, @action, @layer, @rule_id, @flagged, 150)`,
      );
      db.transaction(() => {
        for (const r of rows) {
          insert.run({
            source: 'dns',
            school_id: schoolId,
            client_ip: '10.0.0.5',
            person_id: null,
            device_id: null,
            profile: 'ks2',
            qtype: 'A',
            category: null,
            list: null,
            action: 'allow',
            layer: 'profile',
            rule_id: null,
            flagged: 0,
            ...r,
          });
        }
      })();
    } finally {
      db.close();
    }
  };

  before(async () => {
    ensureWebBuilt();
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-filter-log-'));
    havenCli(['lists', 'import', '--from', path.join(LISTS, 'tree'), '--reason', 'Lists for the DNS log browser test'], dataDir);
    haven = await startHaven(['start'], {
      HAVEN_DATA_DIR: dataDir,
      HAVEN_BOOTSTRAP_ADMIN_EMAIL: ADMIN,
      HAVEN_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      HAVEN_LISTS_URL: '',
      HAVEN_ILLEGAL_CANARIES: '',
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(15_000);
  });
  after(async () => {
    await dslContext?.close();
    await browser?.close();
    await haven?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs in as the administrator and finds some history in the log', async () => {
    await page.goto(haven.url);
    await signIn(page, ADMIN, ADMIN_PASSWORD);
    const schools = await page.request.get(`${haven.url}/api/v1/schools`);
    schoolId = ((await schools.json()) as { items: { id: string }[] }).items[0]!.id;
    const people = await page.request.get(`${haven.url}/api/v1/schools/${schoolId}/people?kind=pupil&limit=1`);
    const first = ((await people.json()) as { items: { id: string; firstName: string; lastName: string }[] }).items[0]!;
    pupil = { id: first.id, name: `${first.firstName} ${first.lastName}` };

    // 150 ordinary questions from an hour ago, then two of the pupil's: one ordinary, one a safeguarding block.
    const hourAgo = Date.now() - 3_600_000;
    insertEvents(Array.from({ length: 150 }, (_, i) => ({ at: new Date(hourAgo + i * 1000).toISOString(), host: `filler-${i}.example` })));
    insertEvents([
      {
        at: new Date(Date.now() - 120_000).toISOString(),
        host: 'www.bbc.co.uk',
        category: 'news',
        person_id: pupil.id,
        device_id: 'laptop-7',
      },
      {
        at: new Date(Date.now() - 60_000).toISOString(),
        host: 'adult.example',
        category: 'pornography',
        list: 'ut1/adult',
        action: 'block',
        layer: 'baseline',
        rule_id: 'baseline:pornography',
        flagged: 1,
        person_id: pupil.id,
        client_ip: '10.0.0.9',
        device_id: 'laptop-7',
      },
    ]);
    await askDoh('bet.example');
    await storedEvent('bet.example');
  });

  it('shows the log to the administrator with the person hidden on the safeguarding entry', async () => {
    await nav(page, 'DNS log').click();
    await page.getByRole('heading', { name: 'DNS log', level: 1 }).waitFor();
    const table = page.getByRole('region', { name: 'Scrollable table: DNS log' });
    const porn = table.getByRole('row', { name: /adult\.example/ });
    await porn.waitFor();
    const pornText = (await porn.textContent()) ?? '';
    assert.match(pornText, /Hidden — safeguarding/);
    assert.match(pornText, /Pornography/);
    assert.match(pornText, /Block/);
    assert.doesNotMatch(pornText, new RegExp(`${pupil.name}|10\\.0\\.0\\.9|laptop-7`));
    const bbc = table.getByRole('row', { name: /www\.bbc\.co\.uk/ });
    assert.match((await bbc.textContent()) ?? '', new RegExp(pupil.name));
    await bbc.getByRole('link', { name: pupil.name }).waitFor();
    await page.getByText('Some entries hide who asked.').waitFor();
    const bet = table.getByRole('row', { name: /bet\.example/ });
    await bet.waitFor();
    assert.match((await bet.textContent()) ?? '', /Gambling.*Block.*DoH/s);
  });

  it('searches by host and action, and pages back in time', async () => {
    const table = page.getByRole('region', { name: 'Scrollable table: DNS log' });
    await page.getByLabel('Host contains').fill('filler-14');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('status').filter({ hasText: '11 entries shown.' }).waitFor();
    assert.equal(await table.getByRole('row').count(), 12, 'filler-14 and filler-140 … 149, and the header');

    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Action').selectOption({ label: 'Block' });
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('status').filter({ hasText: '2 entries shown.' }).waitFor();

    await page.getByRole('button', { name: 'Clear' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /100 entries shown; older entries can be loaded/ })
      .waitFor();
    await page.getByRole('button', { name: 'Older entries' }).click();
    await page.getByRole('status').filter({ hasText: '53 older entries added.' }).waitFor();
    await table.getByRole('row', { name: /filler-0\.example/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Older entries' }).count(), 0, 'nothing older');

    const audit = await page.request.get(`${haven.url}/api/v1/audit?action=filter_log.viewed&limit=10`);
    const entries = ((await audit.json()) as { items: { detail: Record<string, unknown> }[] }).items;
    assert.ok(
      entries.some((e) => e.detail.host === 'filler-14'),
      'the search is in the audit log',
    );
  });

  it('adds new entries live, at the top when there, without moving the page when scrolled down', async () => {
    const table = page.getByRole('region', { name: 'Scrollable table: DNS log' });
    await page.getByLabel('Live', { exact: true }).check();
    await askDoh('live-one.bet.example');
    await table.getByRole('row', { name: /live-one\.bet\.example/ }).waitFor({ timeout: 20_000 });
    await page
      .getByRole('status')
      .filter({ hasText: /new entr/ })
      .waitFor();
    const firstRow = table.locator('tbody tr').first();
    assert.match((await firstRow.textContent()) ?? '', /live-one\.bet\.example/, 'newest at the top');

    // Scrolled well down: the row in the middle of the screen stays exactly where it is.
    await page.evaluate(() => window.scrollTo(0, 1500));
    const watched = await page.evaluate(() => {
      const el = document.elementFromPoint(640, 400)?.closest('tr');
      return el ? { id: el.getAttribute('data-id'), top: el.getBoundingClientRect().top } : null;
    });
    assert.ok(watched?.id, 'a row in the middle of the screen');
    await askDoh('live-two.bet.example');
    await table.getByRole('row', { name: /live-two\.bet\.example/ }).waitFor({ state: 'attached', timeout: 20_000 });
    const after = await page.evaluate((id) => document.querySelector(`tr[data-id="${id}"]`)!.getBoundingClientRect().top, watched.id);
    assert.ok(Math.abs(after - watched.top) < 2, `the row moved from ${watched.top} to ${after}`);
    assert.ok((await page.evaluate(() => window.scrollY)) > 1500, 'the page scrolled by the new row instead');
    await page.getByLabel('Live', { exact: true }).uncheck();
  });

  it('shows the DSL who asked, on every entry', async () => {
    const created = await page.request.post(`${haven.url}/api/v1/users`, {
      data: { email: DSL, displayName: 'Dee Ess-Ell', grants: [{ role: 'dsl', schoolId }] },
    });
    assert.equal(created.status(), 201, await created.text());
    const { temporaryPassword } = (await created.json()) as { temporaryPassword: string };
    dslContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    dslPage = await dslContext.newPage();
    dslPage.setDefaultTimeout(15_000);
    await dslPage.goto(haven.url);
    await signIn(dslPage, DSL, temporaryPassword, DSL_PASSWORD);
    await nav(dslPage, 'DNS log').click();
    const porn = dslPage.getByRole('region', { name: 'Scrollable table: DNS log' }).getByRole('row', { name: /adult\.example/ });
    await porn.waitFor();
    const text = (await porn.textContent()) ?? '';
    assert.match(text, new RegExp(pupil.name));
    assert.match(text, /10\.0\.0\.9/);
    assert.match(text, /laptop-7/);
    assert.doesNotMatch(text, /Hidden/);
    assert.equal(await dslPage.getByText('Some entries hide who asked.').count(), 0);
  });

  it('has no serious accessibility problems on the DNS log (axe-core)', async () => {
    for (const [name, p] of [
      ['administrator', page],
      ['DSL', dslPage],
    ] as const) {
      await p.evaluate(() => window.scrollTo(0, 0));
      await p.getByRole('heading', { name: 'DNS log', level: 1 }).waitFor();
      const violations = await axeViolations(p);
      assert.deepEqual(violations, [], `${name}: ${violations.join('; ')}`);
    }
  });
});
