/**
 * `haven start` on an empty data directory, as a new user runs it: it migrates, seeds the demo
 * school, prints where to go and how to log in, serves the API, and stops cleanly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startHaven } from '../test-support/processes.ts';

describe('haven start', () => {
  it('prints a one-time admin password on an empty database, serves the demo school, stops on SIGTERM', async () => {
    const haven = await startHaven(['start']);
    try {
      const out = haven.stdout();
      assert.match(out, new RegExp(`Web app: +${haven.url.replace(/[.]/g, '\\.')}/`));
      const password = /Password: +(\S+)/.exec(out)?.[1];
      assert.ok(password, out);
      assert.match(out, /DNS filter: 127\.0\.0\.1:\d+ \(UDP and TCP\)/);
      assert.match(out, /Proxy: +127\.0\.0\.1:\d+ /);
      assert.match(out, /worker +running; no scheduled list updates \(set HAVEN_LISTS_URL/);
      const login = await fetch(`${haven.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@haven.local', password }),
      });
      assert.equal(login.status, 200);
      const body = (await login.json()) as { session: { state: string } };
      assert.equal(body.session.state, 'mfa_enrolment_required');
    } finally {
      assert.equal(await haven.stop(), 0);
    }
  });

  it('takes the first admin from the environment and never prints that password', async () => {
    const haven = await startHaven(['start', '--no-demo'], {
      HAVEN_BOOTSTRAP_ADMIN_EMAIL: 'head@school.example',
      HAVEN_BOOTSTRAP_ADMIN_PASSWORD: 'a long bootstrap password',
    });
    try {
      assert.match(haven.stdout(), /Log in as: +head@school\.example with the password in HAVEN_BOOTSTRAP_ADMIN_PASSWORD/);
      assert.doesNotMatch(haven.stdout() + haven.stderr(), /a long bootstrap password/);
      assert.doesNotMatch(haven.stderr(), /Seeded the demo school/);
      const login = await fetch(`${haven.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'head@school.example', password: 'a long bootstrap password' }),
      });
      assert.equal(login.status, 200);
    } finally {
      await haven.stop();
    }
  });
});
