/**
 * Debian's Chromium for browser tests, driven by playwright-core (which never downloads a
 * browser). Missing Chromium skips the tests on a laptop and fails them under CI=true.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'otplib';
import { chromium, type Browser, type Page } from 'playwright-core';

export const chromiumPath = (): string | null => {
  const candidates = [process.env.HAVEN_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p)) ?? null;
};

export const CHROMIUM_REQUIRED_IN_CI =
  "Chromium is required in CI: install Debian's chromium (apt-get install chromium) or set HAVEN_CHROMIUM";

/** false to run, or the reason to skip; throws under CI=true when Chromium is missing. */
export const chromiumSkip = (): string | false => {
  if (chromiumPath()) return false;
  if (process.env.CI === 'true') throw new Error(CHROMIUM_REQUIRED_IN_CI);
  return "Chromium not found: install Debian's chromium or set HAVEN_CHROMIUM to run browser tests";
};

/** `extraArgs` are added to the usual ones (a proxy, certificate trust, host rules). */
export const launchChromium = (extraArgs: readonly string[] = []): Promise<Browser> =>
  chromium.launch({
    executablePath: chromiumPath()!,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      ...extraArgs,
    ],
  });

let axeSource: string | null = null;

/**
 * Runs axe-core on the page as it is now and returns its serious and critical findings, one line
 * each ("rule: selectors"). axe is injected with evaluate(), which runs outside the page's CSP
 * (the CSP rightly refuses injected scripts).
 */
export const axeViolations = async (page: Page): Promise<string[]> => {
  axeSource ??= readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');
  await page.waitForLoadState('networkidle');
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await (
      window as unknown as {
        axe: { run: (ctx: Document) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
      }
    ).axe.run(document);
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
};

/** A link in the web app's main navigation (pages also have back links with the same names). */
export const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

/** Logs in, changing a temporary password and enrolling two-factor authentication when asked. */
export const signIn = async (page: Page, email: string, password: string, newPassword?: string) => {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  const dashboard = nav(page, 'Dashboard');
  const change = page.getByLabel('Current password');
  const setUp = page.getByRole('button', { name: 'Set up two-factor authentication' });
  const secretBox = page.getByTestId('totp-secret');
  for (;;) {
    await Promise.race([dashboard.waitFor(), change.waitFor(), setUp.waitFor(), secretBox.waitFor()]);
    if (await dashboard.isVisible()) return;
    if (await change.isVisible()) {
      await change.fill(password);
      await page.getByLabel('New password', { exact: true }).fill(newPassword!);
      await page.getByLabel('Confirm new password').fill(newPassword!);
      await page.getByRole('button', { name: 'Change password' }).click();
      await change.waitFor({ state: 'detached' });
      continue;
    }
    if (await setUp.isVisible()) await setUp.click();
    const secret = ((await secretBox.textContent()) ?? '').replace(/\s/g, '');
    await page.getByLabel('Code from your app').fill(await generate({ secret }));
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
  }
};
