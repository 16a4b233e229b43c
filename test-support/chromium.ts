/**
 * Debian's Chromium for browser tests, driven by playwright-core (which never downloads a
 * browser). Missing Chromium skips the tests on a laptop and fails them under CI=true.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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

export const launchChromium = (): Promise<Browser> =>
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
    ],
  });
