/**
 * A school laptop at home, as Haven sees it: `haven start` forwarding to a dnsmasq on loopback,
 * an administrator registers a laptop for a Year 5 (Key Stage 2) pupil through the API, and a
 * real HTTP client asks DNS-over-HTTPS at `/dns-query/<token>`. A games site is blocked for Key
 * Stage 2 but only warned about for guests (and, with no block page, a warning is answered), so
 * the answer shows who Haven thinks is asking: the pupil with the token, a guest without it, and a
 * guest again once the device is revoked.
 * Skipped when dnsmasq is missing, unless CI=true (then it must be there).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import dnsPacket from 'dns-packet';
import { generate } from 'otplib';
import { DEFAULT_ACTION_TABLE, DEFAULT_TABLE_COLUMNS } from '../src/core/index.ts';
import { dnsmasqSkip, startDnsmasq, type RunningDnsmasq } from '../test-support/dnsmasq.ts';
import { startHaven, type RunningHaven } from '../test-support/processes.ts';

const skip = dnsmasqSkip();

const EMAIL = 'it@oakfield.example';
const PASSWORD = 'correct horse battery staple';
/** In the fixture lists' ut1/games. */
const GAMES_SITE = 'fun-games.example';
const GAMES_ADDRESS = '192.0.2.50';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const query = (name: string): Buffer =>
  dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });

describe('a device recognised over DoH by its token (dnsmasq upstream)', { skip }, () => {
  let haven: RunningHaven;
  let dnsmasq: RunningDnsmasq;
  let dataDir: string;
  let cookie = '';
  let schoolId = '';
  let pupil: { id: string; yearGroup: string };
  let device: { id: string; token: string; dohPath: string };

  const api = async <T>(method: string, url: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${haven.url}${url}`, {
      method,
      headers: { cookie, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const setCookie = res.headers.get('set-cookie');
    const session = setCookie && /haven_session=([^;]*)/.exec(setCookie);
    if (session) cookie = `haven_session=${session[1]}`;
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
  };

  /** The A answers for `name` over DoH (GET), at /dns-query or /dns-query/<token>. */
  const doh = async (name: string, token?: string): Promise<string[]> => {
    const res = await fetch(`${haven.url}/dns-query${token ? `/${token}` : ''}?dns=${query(name).toString('base64url')}`, {
      headers: { accept: 'application/dns-message' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'private, no-store');
    const answer = dnsPacket.decode(Buffer.from(await res.arrayBuffer()));
    return (answer.answers ?? []).filter((a) => a.type === 'A').map((a) => (a as { data: string }).data);
  };

  before(async () => {
    dnsmasq = await startDnsmasq([`--host-record=${GAMES_SITE},${GAMES_ADDRESS}`, '--host-record=plain.example,192.0.2.40']);
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-devices-'));
    const imported = spawnSync(
      process.execPath,
      [
        path.resolve('bin/haven.mjs'),
        'lists',
        'import',
        '--from',
        path.resolve('test-fixtures/lists/tree'),
        '--reason',
        'Lists for the device test',
      ],
      { env: { ...process.env, HAVEN_DATA_DIR: dataDir, HAVEN_DATABASE_URL: '' }, encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(imported.status, 0, imported.stderr);
    haven = await startHaven(['start'], {
      HAVEN_DATA_DIR: dataDir,
      HAVEN_DNS_UPSTREAM: dnsmasq.address,
      HAVEN_BOOTSTRAP_ADMIN_EMAIL: EMAIL,
      HAVEN_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
    });

    // An administrator signs in and, as their role needs, turns on two-factor authentication.
    const login = await api<{ session: { state: string } }>('POST', '/api/v1/auth/login', { email: EMAIL, password: PASSWORD });
    assert.equal(login.status, 200, JSON.stringify(login.json));
    assert.equal(login.json.session.state, 'mfa_enrolment_required');
    const setup = await api<{ secret: string }>('POST', '/api/v1/auth/mfa/setup', {});
    assert.equal(setup.status, 200, JSON.stringify(setup.json));
    const enabled = await api<{ session: { state: string } }>('POST', '/api/v1/auth/mfa/enable', {
      code: await generate({ secret: setup.json.secret }),
    });
    assert.equal(enabled.status, 200, JSON.stringify(enabled.json));
    assert.equal(enabled.json.session.state, 'active');

    const schools = await api<{ items: { id: string }[] }>('GET', '/api/v1/schools');
    assert.equal(schools.json.items.length, 1, 'the demo school');
    schoolId = schools.json.items[0]!.id;
    const people = await api<{ items: { id: string; yearGroup: string }[] }>(
      'GET',
      `/api/v1/schools/${schoolId}/people?kind=pupil&yearGroup=5&limit=1`,
    );
    assert.equal(people.status, 200);
    pupil = people.json.items[0]!;
    assert.ok(pupil, 'a Year 5 pupil in the demo school');
  });

  after(async () => {
    await haven?.stop();
    dnsmasq?.process.kill('SIGTERM');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('chose a site whose default action differs between Key Stage 2 and guests', () => {
    const row = DEFAULT_ACTION_TABLE.games;
    assert.equal(row[DEFAULT_TABLE_COLUMNS.indexOf('ks2')], 'block');
    assert.equal(row[DEFAULT_TABLE_COLUMNS.indexOf('guests')], 'warn');
  });

  it('registers a laptop for a Key Stage 2 pupil and answers its token and DoH path once', async () => {
    const res = await api<{ device: { id: string; personId: string }; token: string; dohPath: string }>(
      'POST',
      `/api/v1/schools/${schoolId}/devices`,
      { label: 'Year 5 loan laptop 1', kind: 'laptop', personId: pupil.id },
    );
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.equal(res.json.device.personId, pupil.id);
    assert.equal(res.json.dohPath, `/dns-query/${res.json.token}`);
    device = { id: res.json.device.id, token: res.json.token, dohPath: res.json.dohPath };
    const list = await fetch(`${haven.url}/api/v1/schools/${schoolId}/devices`, { headers: { cookie } });
    assert.ok(!(await list.text()).includes(device.token), 'never listed');
  });

  it('answers a guest (no token) from the upstream, and blocks the same name for the pupil’s laptop', async () => {
    assert.deepEqual(await doh(GAMES_SITE), [GAMES_ADDRESS], 'guests are only warned: answered');
    assert.deepEqual(await doh(GAMES_SITE, device.token), ['0.0.0.0'], 'Key Stage 2: blocked');
    const res = await fetch(`${haven.url}${device.dohPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/dns-message' },
      body: new Uint8Array(query(GAMES_SITE)),
    });
    assert.deepEqual(
      dnsPacket
        .decode(Buffer.from(await res.arrayBuffer()))
        .answers?.filter((a) => a.type === 'A')
        .map((a) => (a as { data: string }).data),
      ['0.0.0.0'],
      'by POST too',
    );
    assert.deepEqual(await doh(GAMES_SITE, 'A'.repeat(43)), [GAMES_ADDRESS], 'an unknown token is a guest');
    assert.deepEqual(await doh('plain.example', device.token), ['192.0.2.40'], 'other names still resolve');
  });

  it('records the device and the pupil on the pupil’s questions', async () => {
    await sleep(800); // the sink writes every 250 ms
    const db = new Database(path.join(dataDir, 'haven.db'), { readonly: true });
    try {
      const rows = db
        .prepare('SELECT action, person_id, device_id, profile, source FROM filter_event WHERE host = ? ORDER BY id')
        .all(GAMES_SITE) as {
        action: string;
        person_id: string | null;
        device_id: string | null;
        profile: string | null;
        source: string;
      }[];
      const mine = rows.filter((r) => r.device_id === device.id);
      assert.ok(mine.length >= 2, JSON.stringify(rows));
      for (const r of mine) assert.deepEqual([r.action, r.person_id, r.source], ['block', pupil.id, 'doh']);
      assert.ok(
        rows.some((r) => r.device_id === null && r.person_id === null && r.action === 'warn'),
        'the guest was warned, not identified',
      );
    } finally {
      db.close();
    }
  });

  it('no longer recognises the token once the device is revoked', async () => {
    const revoked = await api<{ device: { revokedAt: string | null } }>(
      'POST',
      `/api/v1/schools/${schoolId}/devices/${device.id}/revoke`,
      {},
    );
    assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
    assert.ok(revoked.json.device.revokedAt);
    assert.deepEqual(await doh(GAMES_SITE, device.token), [GAMES_ADDRESS], 'a guest again');
    const again = await api('POST', `/api/v1/schools/${schoolId}/devices/${device.id}/rotate-token`, {});
    assert.equal(again.status, 409, 'a revoked device gets no new token');
  });
});
