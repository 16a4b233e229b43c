/**
 * Filtering in a real Chromium, as a school's IT lead and a teacher would use it: read the
 * effective policy, check a site, block one with a reason and find it in the history, see the
 * server refuse a bad save (and a save over someone else's), make a teacher's override and end
 * it, and read the lists and the illegal tier's self-check. Every new page is checked with axe-core.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { axeViolations, chromiumSkip, launchChromium, nav } from '../test-support/chromium.ts';
import { havenCli, startHaven, type RunningHaven } from '../test-support/processes.ts';
import { ensureWebBuilt } from '../test-support/web-build.ts';

const skip = chromiumSkip();
const EMAIL = 'it-lead@oakfield.example';
const PASSWORD = 'correct horse battery staple';
const TEACHER = 'teacher@oakfield.example';
const TEACHER_PASSWORD = 'a teacher picks four words';
const LISTS = path.resolve('test-fixtures/lists');

describe('filtering in Chromium', { skip }, () => {
  let haven: RunningHaven;
  let dataDir: string;
  let browser: Browser;
  let page: Page;
  let teacherContext: BrowserContext | undefined;
  let teacher: Page;
  let secret = '';
  let schoolId = '';

  before(async () => {
    ensureWebBuilt();
    // Lists are imported before Haven starts, as an IT manager would with the CLI.
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-filtering-'));
    havenCli(['lists', 'import', '--from', path.join(LISTS, 'tree'), '--reason', 'First import for the browser test'], dataDir);
    havenCli(['lists', 'import-illegal', '--ctiru', path.join(LISTS, 'ctiru.txt'), '--reason', 'CTIRU list for the browser test'], dataDir);
    haven = await startHaven(['start'], {
      HAVEN_DATA_DIR: dataDir,
      HAVEN_BOOTSTRAP_ADMIN_EMAIL: EMAIL,
      HAVEN_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      HAVEN_LISTS_URL: '',
      HAVEN_ILLEGAL_CANARIES: '',
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
  });
  after(async () => {
    await teacherContext?.close();
    await browser?.close();
    await haven?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs in as the administrator, with two-factor authentication', async () => {
    await page.goto(haven.url);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    const setUp = page.getByRole('button', { name: 'Set up two-factor authentication' });
    const secretBox = page.getByTestId('totp-secret');
    await Promise.race([setUp.waitFor(), secretBox.waitFor()]);
    if (await setUp.isVisible()) await setUp.click();
    secret = ((await secretBox.textContent()) ?? '').replace(/\s/g, '');
    await page.getByLabel('Code from your app').fill(await generate({ secret }));
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('link', { name: 'Dashboard' }).waitFor();
    const schools = await page.request.get(`${haven.url}/api/v1/schools`);
    schoolId = ((await schools.json()) as { items: { id: string }[] }).items[0]!.id;
  });

  it('shows the effective policy: categories × groups, badges, lists, rules and teacher settings', async () => {
    await nav(page, 'Filtering').click();
    await page.getByRole('heading', { name: 'Filtering', level: 1 }).waitFor();
    const table = page.locator('table', { has: page.locator('caption', { hasText: 'What each category does for each group' }) });
    await table.waitFor();
    assert.ok(await table.getByRole('columnheader', { name: /Key Stage 2 pupils/ }).isVisible());
    const porn = table.getByRole('row', { name: /^Pornography/ });
    assert.match((await porn.textContent()) ?? '', /Locked/);
    assert.match((await table.getByRole('row', { name: /^Self-harm/ }).textContent()) ?? '', /Safeguarding/);
    assert.match((await table.getByRole('row', { name: /^Social networks/ }).textContent()) ?? '', /Allow and flag/);
    await page.getByRole('region', { name: 'Allow list', exact: true }).getByRole('rowheader', { name: 'childline.org.uk' }).waitFor();
    await page
      .getByRole('region', { name: 'Rules', exact: true })
      .getByText(/Years 7–8/)
      .waitFor();
    await page.getByRole('region', { name: 'What teachers may open' }).getByText('8 hours').waitFor();
  });

  it('checks a site: action, category, list and the reason', async () => {
    const box = page.getByRole('region', { name: 'Check a site', exact: true });
    await box.getByLabel('Site').fill('casino.example');
    await box.getByLabel('For').selectOption({ label: 'Key Stage 2 pupils' });
    await box.getByRole('button', { name: 'Check' }).click();
    const result = page.getByTestId('check-result');
    await result.getByText('ut1/gambling').waitFor();
    const text = (await result.textContent()) ?? '';
    assert.match(text, /Block/);
    assert.match(text, /Gambling/);
    assert.match(text, /Key Stage 2 pupils/);
  });

  it('blocks a site with a reason, shows what changed, and the history has it', async () => {
    await page.getByRole('button', { name: 'Make changes' }).click();
    const blockList = page.getByRole('region', { name: 'Block list', exact: true });
    await blockList.getByLabel('Site to block').fill('timewaster.example');
    await blockList.getByLabel('Note').fill('Distracting in lessons');
    await blockList.getByRole('button', { name: 'Add to block list' }).click();
    await blockList.getByRole('rowheader', { name: 'timewaster.example' }).waitFor();
    const save = page.getByRole('region', { name: 'Save your changes' });
    await save.getByLabel('Reason for the change').fill('Year 6 team asked for it during SATs revision');
    await save.getByRole('button', { name: 'Save changes' }).click();
    const saved = page.getByTestId('policy-saved');
    await saved.waitFor();
    assert.match((await saved.textContent()) ?? '', /Saved version 1\..*timewaster\.example/s);

    const box = page.getByRole('region', { name: 'Check a site', exact: true });
    await box.getByLabel('Site').fill('https://timewaster.example/page');
    await box.getByRole('button', { name: 'Check' }).click();
    await page
      .getByTestId('check-result')
      .getByText(/block list/)
      .first()
      .waitFor();

    await page.getByRole('link', { name: 'Change history' }).click();
    const history = page.getByRole('region', { name: /changes$/ }).first();
    await history.getByRole('heading', { name: /Version 1/ }).waitFor();
    const text = (await history.textContent()) ?? '';
    assert.match(text, /Year 6 team asked for it during SATs revision/);
    assert.match(text, /timewaster\.example/);
    assert.match(text, new RegExp(EMAIL.replace(/\./g, '\\.')));
  });

  it('shows every problem when the server refuses a save, and says to reload after a conflict', async () => {
    await nav(page, 'Filtering').click();
    await page.getByRole('button', { name: 'Make changes' }).click();
    const save = page.getByRole('region', { name: 'Save your changes' });
    const alert = save.getByRole('alert');

    // No reason: the page asks before anything is sent.
    await save.getByRole('button', { name: 'Save changes' }).click();
    await save.getByText('Say why you are making this change').waitFor();

    // A reason too short for the server: its own words come back.
    await save.getByLabel('Reason for the change').fill('no');
    await save.getByRole('button', { name: 'Save changes' }).click();
    await alert.getByText(/reason is required/).waitFor();

    // An entry that is not a site, and a locked category opened for pupils: both problems shown.
    const blockList = page.getByRole('region', { name: 'Block list', exact: true });
    await blockList.getByLabel('Site to block').fill('not a site!!');
    await blockList.getByRole('button', { name: 'Add to block list' }).click();
    await page.getByLabel('Pornography for Key Stage 2 pupils', { exact: true }).selectOption('allow');
    await save.getByLabel('Reason for the change').fill('Testing what the server refuses');
    await save.getByRole('button', { name: 'Save changes' }).click();
    await alert.getByText(/was not saved/).waitFor();
    const refused = (await alert.textContent()) ?? '';
    assert.match(refused, /is not a host name or URL/);
    assert.match(refused, /locked category/);
    await page.getByRole('button', { name: 'Discard changes' }).click();

    // Someone else saves while this page has the policy open.
    await page.getByRole('button', { name: 'Make changes' }).click();
    await page.getByLabel('Games for Key Stage 2 pupils', { exact: true }).selectOption('warn');
    const current = await page.request.get(`${haven.url}/api/v1/schools/${schoolId}/filtering-policy`);
    const { version, policy } = (await current.json()) as { version: number; policy: { blockList?: unknown[] } };
    const other = await page.request.put(`${haven.url}/api/v1/schools/${schoolId}/filtering-policy`, {
      data: {
        policy: { ...policy, blockList: [...(policy.blockList ?? []), { pattern: 'another.example' }] },
        reason: 'A colleague',
        baseVersion: version,
      },
    });
    assert.equal(other.status(), 200, await other.text());
    await save.getByLabel('Reason for the change').fill('Games as a warning for KS2');
    await save.getByRole('button', { name: 'Save changes' }).click();
    await alert.getByText(/changed since you opened it/).waitFor();
    await alert.getByRole('button', { name: 'Reload the policy' }).click();
    await page.getByRole('region', { name: 'Block list', exact: true }).getByRole('rowheader', { name: 'another.example' }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Save your changes' }).count(), 0);
  });

  it("adds a site's network ranges, so the DNS filter knows the school, saved with a reason", async () => {
    await page.getByRole('button', { name: 'Make changes' }).click();
    const places = page.getByRole('region', { name: 'Sites and networks' });
    await places.getByRole('button', { name: 'Add site' }).click();
    await places.getByText('Give the site a name').waitFor();
    await places.getByLabel('Site name').fill('Main building');
    await places.getByLabel('Address ranges').fill('10.20.0.0/16, 2001:db8:20::/48');
    await places.getByRole('button', { name: 'Add site' }).click();
    await places.getByRole('rowheader', { name: 'Main building' }).waitFor();
    const save = page.getByRole('region', { name: 'Save your changes' });
    await save.getByLabel('Reason for the change').fill('Main building network for the DNS filter');
    await save.getByRole('button', { name: 'Save changes' }).click();
    const saved = page.getByTestId('policy-saved');
    await saved.waitFor();
    assert.match((await saved.textContent()) ?? '', /Added place Main building \(10\.20\.0\.0\/16, 2001:db8:20::\/48\)/);
  });

  it('opens the Lists page: the import, each list, lists not used and the illegal tier', async () => {
    await page.getByRole('link', { name: 'Lists', exact: true }).click();
    await page.getByRole('heading', { name: 'Filtering lists', level: 1 }).waitFor();
    await page.getByTestId('illegal-self-check').getByText('Working.').waitFor();
    const lists = page.getByRole('region', { name: 'Category lists' });
    assert.match((await lists.textContent()) ?? '', new RegExp(path.join(LISTS, 'tree').replace(/[/.]/g, '\\$&')));
    assert.match((await lists.getByRole('row', { name: /ut1\/adult/ }).textContent()) ?? '', /Pornography/);
    const unused = page.getByRole('region', { name: 'Lists not used' });
    await unused.getByText('ut1/newcategory').waitFor();
    await unused.getByText('ut1/examen_pix').waitFor();
    assert.match((await page.getByRole('region', { name: 'Illegal-content tier' }).textContent()) ?? '', /CTIRU[^]*2/);
  });

  it('lets a teacher open a category for a year group for a lesson, and end it early', async () => {
    const created = await page.request.post(`${haven.url}/api/v1/users`, {
      data: { email: TEACHER, displayName: 'Sam Teacher', grants: [{ role: 'staff', schoolId }] },
    });
    assert.equal(created.status(), 201, await created.text());
    const { temporaryPassword } = (await created.json()) as { temporaryPassword: string };

    teacherContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    teacher = await teacherContext.newPage();
    teacher.setDefaultTimeout(15_000);
    await teacher.goto(haven.url);
    await teacher.getByLabel('Email').fill(TEACHER);
    await teacher.getByLabel('Password').fill(temporaryPassword);
    await teacher.getByRole('button', { name: 'Log in' }).click();
    await teacher.getByLabel('Current password').fill(temporaryPassword);
    await teacher.getByLabel('New password', { exact: true }).fill(TEACHER_PASSWORD);
    await teacher.getByLabel('Confirm new password').fill(TEACHER_PASSWORD);
    await teacher.getByRole('button', { name: 'Change password' }).click();
    await nav(teacher, 'Overrides').waitFor();
    assert.equal(await nav(teacher, 'Filtering').count(), 0, 'teachers do not see the policy');

    await nav(teacher, 'Overrides').click();
    const form = teacher.getByRole('region', { name: 'Open something for a class' });
    await form.getByRole('button', { name: 'Make override' }).click();
    await form.getByText('Choose at least one year group or group').waitFor();
    await form.getByLabel('Year 5', { exact: true }).check();
    await form.getByLabel('Games', { exact: true }).check();
    await form.getByLabel('Minutes').fill('45');
    await form.getByLabel('Reason', { exact: true }).fill('Coding club tries a maths game');
    await form.getByRole('button', { name: 'Make override' }).click();
    await teacher.getByText(/Opened Games for Year 5/).waitFor();
    const row = teacher.getByRole('region', { name: 'Overrides', exact: true }).getByRole('row', { name: /Year 5/ });
    await row.getByText('Active').waitFor();

    await row.getByRole('button', { name: 'End now the override for Year 5' }).click();
    const end = teacher.getByRole('region', { name: 'End the override for Year 5' });
    await end.getByLabel('Why are you ending it?').fill('The lesson finished early');
    await end.getByRole('button', { name: 'End override' }).click();
    await row.getByText('Ended early').waitFor();
    assert.equal(await row.getByRole('button', { name: /End now/ }).count(), 0);
  });

  it('has no serious accessibility problems on the filtering pages (axe-core)', async () => {
    const pages: [string, Page, () => Promise<void>][] = [
      ['Filtering', page, () => nav(page, 'Filtering').click()],
      ['Filtering (changing)', page, () => page.getByRole('button', { name: 'Make changes' }).click()],
      ['Change history', page, () => page.getByRole('link', { name: 'Change history' }).click()],
      [
        'Lists',
        page,
        async () => {
          await nav(page, 'Filtering').click();
          await page.getByRole('link', { name: 'Lists', exact: true }).click();
        },
      ],
      ['Overrides', page, () => nav(page, 'Overrides').click()],
      [
        'Overrides (teacher)',
        teacher,
        async () => {
          await teacher.reload();
        },
      ],
    ];
    for (const [name, p, open] of pages) {
      await open();
      await p.locator('h1').first().waitFor();
      const violations = await axeViolations(p);
      assert.deepEqual(violations, [], `${name}: ${violations.join('; ')}`);
    }
  });
});
