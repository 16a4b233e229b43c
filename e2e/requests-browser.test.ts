/**
 * Block pages and the Requests queue in a real Chromium against `haven start`: a pupil's device,
 * pointed at the block-page server by the DNS filter, shows the block page with the school's
 * message; the pupil asks for the site to be unblocked from the plain form (no account) and tells
 * a trusted adult; the administrator sees the request (but not the message for the DSL) on the
 * Requests page and allows the site, which goes on the school's allow list. Pages checked with axe-core.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, chromiumSkip, launchChromium, nav, signIn } from '../test-support/chromium.ts';
import { startHaven, type RunningHaven } from '../test-support/processes.ts';
import { ensureWebBuilt } from '../test-support/web-build.ts';

const skip = chromiumSkip();
const ADMIN = 'admin@oakfield.example';
const PASSWORD = 'correct horse battery staple';
const SITE = 'blocked-by-school.example';

/** GET / from the block-page server as if the browser had asked for `host` (what DNS sends it). */
const blockPage = (port: number, host: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/homework', headers: { host } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });

describe('block pages and the Requests queue in Chromium', { skip }, () => {
  let haven: RunningHaven;
  let browser: Browser;
  let page: Page;
  let pupil: Page;
  let blockPort = 0;
  let schoolId = '';

  before(async () => {
    ensureWebBuilt();
    haven = await startHaven(['start'], {
      HAVEN_BOOTSTRAP_ADMIN_EMAIL: ADMIN,
      HAVEN_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      HAVEN_LISTS_URL: '',
      HAVEN_ILLEGAL_CANARIES: '',
    });
    for (let i = 0; i < 600 && !blockPort; i++) {
      blockPort = Number(/Block page: http:\/\/127\.0\.0\.1:(\d+)\//.exec(haven.stdout())?.[1] ?? 0);
      if (!blockPort) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(blockPort, `the block-page server's address is printed:\n${haven.stdout()}`);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
    pupil = await (await browser.newContext()).newPage();
    pupil.setDefaultTimeout(15_000);
  });
  after(async () => {
    await browser?.close();
    await haven?.stop();
  });

  it('the administrator blocks a site with a message for the block page', async () => {
    await page.goto(haven.url);
    await signIn(page, ADMIN, PASSWORD);
    const schools = await page.request.get(`${haven.url}/api/v1/schools`);
    schoolId = ((await schools.json()) as { items: { id: string }[] }).items[0]!.id;
    const current = (await (await page.request.get(`${haven.url}/api/v1/schools/${schoolId}/filtering-policy`)).json()) as {
      version: number;
      policy: Record<string, unknown>;
    };
    const saved = await page.request.put(`${haven.url}/api/v1/schools/${schoolId}/filtering-policy`, {
      data: {
        policy: { ...current.policy, blockList: [{ pattern: SITE }], blockPageMessage: 'Ask Mrs Khan in the library.' },
        reason: 'Requests browser test',
        baseVersion: current.version,
      },
    });
    assert.equal(saved.status(), 200, await saved.text());
  });

  it('shows the block page and takes the pupil’s request and message without an account', async () => {
    let shown = await blockPage(blockPort, SITE);
    // The school's message is fetched in the background on first use.
    for (let i = 0; i < 20 && !shown.body.includes('Mrs Khan'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      shown = await blockPage(blockPort, SITE);
    }
    assert.equal(shown.status, 403);
    assert.match(shown.body, /Ask Mrs Khan in the library/);
    await pupil.setContent(shown.body);
    assert.deepEqual(await axeViolations(pupil), []);
    const links = [...shown.body.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    const ask = links.find((l) => l.includes('kind=unblock'))!;
    const tell = links.find((l) => l.includes('kind=trusted_adult'))!;
    assert.ok(ask.startsWith(`${haven.url}/unblock?`), ask);

    await pupil.goto(ask);
    await pupil.getByRole('button', { name: 'Send' }).click();
    await pupil.getByRole('alert').getByText('Say why you need the site').waitFor();
    await pupil.getByLabel('Why do you need this site?').fill('Our history homework uses it');
    assert.deepEqual(await axeViolations(pupil), []);
    await pupil.getByRole('button', { name: 'Send' }).click();
    await pupil.getByRole('heading', { name: 'Your request has been sent' }).waitFor();

    await pupil.goto(tell);
    await pupil.getByLabel(/What do you want to tell us/).fill('Someone keeps sending me horrible messages');
    await pupil.getByRole('button', { name: 'Send' }).click();
    await pupil.getByRole('heading', { name: 'Thank you for telling us' }).waitFor();
  });

  it('the administrator sees the request, not the message for the DSL, and allows the site', async () => {
    await nav(page, 'Requests').click();
    await page.getByRole('heading', { name: 'Requests from block pages', level: 1 }).waitFor();
    await page.getByText('Our history homework uses it').waitFor();
    assert.ok(!(await page.content()).includes('horrible messages'), 'the message is for the DSL team only');
    await page.getByText('Messages for a trusted adult are not shown to your role').waitFor();
    assert.deepEqual(await axeViolations(page), []);
    await page.getByRole('button', { name: `Allow ${SITE}` }).click();
    await page.getByLabel('Note').fill('Year 9 history');
    await page.getByRole('button', { name: 'Allow site' }).click();
    await page.getByText('Nothing is waiting for an answer.').waitFor();
    const policy = (await (await page.request.get(`${haven.url}/api/v1/schools/${schoolId}/filtering-policy`)).json()) as {
      policy: { allowList?: { pattern: string }[] };
    };
    assert.ok(policy.policy.allowList?.some((e) => e.pattern === SITE));
    const after = await blockPage(blockPort, SITE);
    assert.equal(after.status, 200, 'the allow list now wins over the block list');
    assert.match(after.body, /not blocked now/);
  });
});
