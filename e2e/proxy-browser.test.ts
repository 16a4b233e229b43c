/**
 * Issue 5's browser test: Debian's Chromium with `--proxy-server` pointed at `haven start`
 * (HAVEN_PROXY_INTERCEPT=on after `haven ca init`), trusting the interception leaf's key. Stand-in
 * sites (one HTTPS server on loopback answering for www.google.com, an allowed site and a site the
 * school blocks) are reached through the proxy's own resolver (HAVEN_PROXY_RESOLVE), so nothing
 * leaves the machine: an allowed page loads decrypted, the blocked site shows Haven's block page
 * over HTTPS, "ask for it to be unblocked" puts a request in the Requests queue, and a Google
 * search reaches the stand-in with SafeSearch forced and is stored with its search term.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { chromiumSkip, launchChromium, signIn } from '../test-support/chromium.ts';
import { freePort, havenCli, startHaven, type RunningHaven } from '../test-support/processes.ts';
import { startEchoOrigin, type EchoOrigin, type EchoSeen } from '../test-support/proxy-echo-origin.ts';
import { makeCert } from '../test-support/proxy-origins.ts';
import { ensureWebBuilt } from '../test-support/web-build.ts';

const skip = chromiumSkip();
const ADMIN = 'admin@oakfield.example';
const PASSWORD = 'correct horse battery staple';
const ALLOWED = 'allowed-site.example';
const BLOCKED = 'blocked-by-school.example';
const GOOGLE = 'www.google.com';

/** The interception leaf's public key (every leaf shares it), as Chromium's --ignore-certificate-errors-spki-list wants it. */
const leafSpki = (proxyPort: number, host: string, port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1');
    s.once('error', reject);
    s.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
    s.once('data', (d: Buffer) => {
      if (!/^HTTP\/1\.1 200/.test(d.toString('latin1'))) {
        reject(new Error(`CONNECT refused: ${d.toString('latin1')}`));
        return;
      }
      const t = tls.connect({ socket: s, servername: host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
      t.once('error', reject);
      t.once('secureConnect', () => {
        const cert = new X509Certificate(t.getPeerCertificate().raw);
        const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
        t.destroy();
        resolve(createHash('sha256').update(spki).digest('base64'));
      });
    });
  });

describe('Chromium through the proxy with TLS interception (haven start)', { skip }, () => {
  let dataDir: string;
  let haven: RunningHaven;
  let origin: EchoOrigin;
  let browser: Browser;
  let admin: Page;
  let pupil: Page;
  let proxyPort = 0;
  let schoolId = '';

  before(async () => {
    ensureWebBuilt();
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-proxy-browser-'));
    havenCli(['ca', 'init', '--name', 'Oakfield Learning Trust'], dataDir);
    const cert = makeCert([GOOGLE, ALLOWED, BLOCKED]);
    const originCa = path.join(dataDir, 'stand-in-ca.pem');
    writeFileSync(originCa, cert.cert);
    origin = await startEchoOrigin(cert);
    proxyPort = await freePort();
    haven = await startHaven(['start'], {
      HAVEN_DATA_DIR: dataDir,
      HAVEN_BOOTSTRAP_ADMIN_EMAIL: ADMIN,
      HAVEN_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      HAVEN_LISTS_URL: '',
      HAVEN_ILLEGAL_CANARIES: '',
      HAVEN_PROXY_PORT: String(proxyPort),
      HAVEN_PROXY_INTERCEPT: 'on',
      HAVEN_PROXY_UPSTREAM_CA_FILE: originCa,
      HAVEN_PROXY_CONNECT_PORTS: 'any',
      HAVEN_PROXY_RESOLVE: [GOOGLE, ALLOWED, BLOCKED].map((h) => `${h}=127.0.0.1`).join(','),
    });
    // /healthz answers before the proxy listens: wait for its line.
    for (let i = 0; i < 300 && !/Proxy: +127\.0\.0\.1:\d+/.test(haven.stdout()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(haven.stdout(), /Proxy: +127\.0\.0\.1:\d+/, `${haven.stdout()}\n${haven.stderr()}`);
    const spki = await leafSpki(proxyPort, ALLOWED, origin.port);
    browser = await launchChromium([
      `--proxy-server=http://127.0.0.1:${proxyPort}`,
      // Haven's own pages (the block page's links) are on loopback: through the proxy as well.
      '--proxy-bypass-list=<-loopback>',
      `--ignore-certificate-errors-spki-list=${spki}`,
      // Belt and braces: any name Chromium itself resolves stays on this machine.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ]);
    admin = await (await browser.newContext()).newPage();
    admin.setDefaultTimeout(15_000);
    pupil = await (await browser.newContext()).newPage();
    pupil.setDefaultTimeout(15_000);
  });
  after(async () => {
    await browser?.close();
    await haven?.stop();
    await origin?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the administrator blocks a site for the school', async () => {
    await admin.goto(haven.url);
    await signIn(admin, ADMIN, PASSWORD);
    const schools = await admin.request.get(`${haven.url}/api/v1/schools`);
    schoolId = ((await schools.json()) as { items: { id: string }[] }).items[0]!.id;
    const current = (await (await admin.request.get(`${haven.url}/api/v1/schools/${schoolId}/filtering-policy`)).json()) as {
      version: number;
      policy: Record<string, unknown>;
    };
    const saved = await admin.request.put(`${haven.url}/api/v1/schools/${schoolId}/filtering-policy`, {
      data: {
        policy: { ...current.policy, blockList: [{ pattern: BLOCKED }] },
        reason: 'Proxy browser test',
        baseVersion: current.version,
      },
    });
    assert.equal(saved.status(), 200, await saved.text());
  });

  it('loads an allowed page over HTTPS, decrypted and re-encrypted by the proxy', async () => {
    const res = await pupil.goto(`https://${ALLOWED}:${origin.port}/page`);
    assert.equal(res?.status(), 200);
    await pupil.getByRole('heading', { name: 'An allowed page' }).waitFor();
    assert.ok(origin.seen.some((s) => s.url === '/page' && s.sni === ALLOWED));
  });

  it('shows Haven’s block page for the blocked site, and the unblock request reaches the Requests queue', async () => {
    // The policy reaches the proxy within seconds.
    let status = 0;
    for (let i = 0; i < 50 && status !== 403; i++) {
      status = (await pupil.goto(`https://${BLOCKED}:${origin.port}/homework`))?.status() ?? 0;
      if (status !== 403) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status, 403);
    await pupil.getByRole('link', { name: /Ask for it to be unblocked/i }).click();
    await pupil.getByLabel('Why do you need this site?').fill('Our geography homework uses it');
    await pupil.getByRole('button', { name: 'Send' }).click();
    await pupil.getByRole('heading', { name: 'Your request has been sent' }).waitFor();
    const queue = await admin.request.get(`${haven.url}/api/v1/schools/${schoolId}/unblock-requests`);
    assert.equal(queue.status(), 200, await queue.text());
    const text = await queue.text();
    assert.match(text, /Our geography homework uses it/);
    assert.match(text, new RegExp(BLOCKED.replaceAll('.', '\\.')));
  });

  it('sends a Google search to the stand-in with SafeSearch forced, and stores the search term', async () => {
    await pupil.goto(`https://${GOOGLE}:${origin.port}/search?q=volcano+homework+help`);
    const seen = JSON.parse((await pupil.locator('body').innerText()).trim()) as EchoSeen;
    assert.match(seen.url, /^\/search\?q=volcano\+homework\+help/);
    assert.match(seen.url, /[?&]safe=active(&|$)/);
    assert.equal(await haven.stop(), 0);
    const db = new Database(path.join(dataDir, 'haven.db'), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT host, url, search_term FROM filter_event WHERE source = 'proxy' AND search_term IS NOT NULL")
        .all() as {
        host: string;
        url: string;
        search_term: string;
      }[];
      assert.ok(
        rows.some((r) => r.host === GOOGLE && r.search_term === 'volcano homework help'),
        JSON.stringify(rows),
      );
    } finally {
      db.close();
    }
  });
});
