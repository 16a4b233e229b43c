/**
 * A real Chromium through the web app, as a new school's administrator would go: log in, set up
 * two-factor authentication, import the MIS export, find the pupils, get locked after idling
 * and unlock, log out and back in with a code.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, chromiumSkip, launchChromium } from '../test-support/chromium.ts';
import { startHaven, type RunningHaven } from '../test-support/processes.ts';
import { ensureWebBuilt } from '../test-support/web-build.ts';

const skip = chromiumSkip();
const EMAIL = 'head@oakfield.example';
const PASSWORD = 'correct horse battery staple';

describe('web app in Chromium', { skip }, () => {
  let haven: RunningHaven;
  let browser: Browser;
  let page: Page;
  let secret = '';
  // Haven accepts each 30-second code once; wait for a new one when the last was just used.
  let lastStep = -1;
  const freshCode = async (): Promise<string> => {
    while (Math.floor(Date.now() / 30_000) <= lastStep) await new Promise((r) => setTimeout(r, 500));
    lastStep = Math.floor(Date.now() / 30_000);
    return generate({ secret });
  };

  before(async () => {
    ensureWebBuilt();
    haven = await startHaven(['start'], {
      HAVEN_BOOTSTRAP_ADMIN_EMAIL: EMAIL,
      HAVEN_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      HAVEN_IDLE_LOCK_MINUTES: '1',
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    page.setDefaultTimeout(15_000);
  });
  after(async () => {
    await browser?.close();
    await haven?.stop();
  });

  it('logs in and enrols two-factor authentication with recovery codes', async () => {
    await page.goto(haven.url);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    const setUp = page.getByRole('button', { name: 'Set up two-factor authentication' });
    const secretBox = page.getByTestId('totp-secret');
    await Promise.race([setUp.waitFor(), secretBox.waitFor()]);
    if (await setUp.isVisible()) await setUp.click();
    secret = ((await secretBox.textContent()) ?? '').replace(/\s/g, '');
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    await page.getByLabel('Code from your app').fill(await freshCode());
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    const codes = page.getByTestId('recovery-codes');
    await codes.waitFor();
    assert.equal((await codes.locator('li').count()) || ((await codes.textContent()) ?? '').split(/\s+/).filter(Boolean).length, 10);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('link', { name: 'Dashboard' }).waitFor();
    assert.match((await page.textContent('main')) ?? '', /Oakfield/);
  });

  it('imports a MIS export and lists the pupils', async () => {
    await page.getByRole('link', { name: 'People' }).click();
    await page.getByRole('link', { name: /Import/ }).click();
    await page.getByLabel('CSV file').setInputFiles(path.resolve('test-fixtures/people/clean-mis-export.csv'));
    await page.getByRole('button', { name: 'Check file' }).click();
    await page
      .getByText(/29 rows|rows: 29|29 valid/i)
      .first()
      .waitFor();
    await page.getByRole('button', { name: /^Import/ }).click();
    await page
      .getByText(/created/i)
      .first()
      .waitFor();
    await page.getByRole('link', { name: 'People' }).click();
    const table = page.locator('table', { has: page.locator('caption', { hasText: 'People' }) });
    await table.waitFor();
    await page.getByLabel(/Search/i).fill('Chowdhury');
    await page.getByRole('cell', { name: 'Chowdhury' }).first().waitFor();
  });

  it('adds a school, refuses a bad URN, and renames it', async () => {
    await page.getByRole('link', { name: 'Schools', exact: true }).first().click();
    const add = page.getByRole('region', { name: 'Add a school' });
    await add.getByLabel('School name').fill('Elm Tree Academy');
    await add.getByLabel(/URN/).fill('12x');
    await add.getByRole('button', { name: 'Add school' }).click();
    await add.getByText('A URN is 6 digits').waitFor();
    await add.getByLabel(/URN/).fill('123457');
    await add.getByRole('button', { name: 'Add school' }).click();
    await page.getByRole('cell', { name: 'Elm Tree Academy' }).waitFor();
    await page.getByRole('button', { name: 'Rename Elm Tree Academy' }).click();
    const edit = page.getByRole('region', { name: 'Rename Elm Tree Academy' });
    await edit.getByLabel('School name').fill('Elm Tree Primary Academy');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('cell', { name: 'Elm Tree Primary Academy' }).waitFor();
  });

  it('has no serious accessibility problems on the main pages (axe-core)', async () => {
    for (const link of ['Dashboard', 'People', 'Groups', 'Schools', 'Users', 'Audit log', 'My account']) {
      await page.getByRole('link', { name: link, exact: true }).first().click();
      const violations = await axeViolations(page);
      assert.deepEqual(violations, [], `${link}: ${violations.join('; ')}`);
    }
  });

  it('is usable on a tablet: the navigation folds behind a menu button', async () => {
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.getByRole('button', { name: /Menu/i }).click();
    await page.getByRole('link', { name: 'People', exact: true }).first().click();
    await page.locator('table', { has: page.locator('caption', { hasText: 'People' }) }).waitFor();
    await page.setViewportSize({ width: 1024, height: 768 });
  });

  it('locks the session after idling, and unlocks with the password and a code', async () => {
    // HAVEN_IDLE_LOCK_MINUTES=1: the app polls the session and shows the lock screen by itself.
    await page.getByRole('heading', { name: /locked/i }).waitFor({ timeout: 150_000 });
    await page.getByLabel('Password').fill(PASSWORD);
    const code = page.getByLabel(/Code/);
    if (await code.count()) await code.first().fill(await freshCode());
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('link', { name: 'Dashboard' }).waitFor();
  });

  it('logs out, and the next login asks for a code', async () => {
    await page.getByRole('button', { name: /Log out/i }).click();
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('Code').fill(await freshCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('link', { name: 'Dashboard' }).waitFor();
  });
});
