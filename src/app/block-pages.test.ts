/**
 * The block-page server blocked DNS names point at, built from a real Haven (embedded SQLite):
 * it answers any Host, decides the name again for whoever is asking, shows the page with the
 * school's message and buttons that lead to Haven's public address with a working ticket, says
 * so when a name is no longer blocked, and refuses anything but GET and HEAD.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemContext } from '../services/index.ts';
import { createBlockPages, startBlockPageServer } from './block-pages.ts';
import { openHaven, type Haven } from './compose.ts';
import { loadConfig } from './config.ts';

const ask = (port: number, host: string, pathname = '/', method = 'GET') =>
  new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', path: pathname, method, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });

describe('block-page server', () => {
  let dir: string;
  let haven: Haven;
  let server: Awaited<ReturnType<typeof startBlockPageServer>>;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-block-pages-'));
    haven = await openHaven(loadConfig({ HAVEN_DATA_DIR: dir, HAVEN_PUBLIC_URL: 'https://haven.oakfield.test/' }));
    await haven.services.tenancy.ensureTrust('Test Trust');
    const school = await haven.services.tenancy.createSchool(systemContext('test'), { name: 'Block Page Primary' });
    await haven.services.policies.saveSchoolPolicy(systemContext('test'), school.id, {
      policy: {
        schoolId: school.id,
        blockList: [{ pattern: 'blocked.example' }],
        blockPageMessage: 'Ask Mrs Khan in the library if you need this site.',
      },
      reason: 'Block page test',
      baseVersion: 0,
    });
    await haven.services.identity.refresh();
    server = await startBlockPageServer(createBlockPages(haven), { host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await server?.close();
    await haven?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the block page for a blocked name, with the school’s message and working buttons', async () => {
    await ask(server.port, 'blocked.example'); // the school's message loads in the background
    await new Promise((r) => setTimeout(r, 100));
    const res = await ask(server.port, 'www.blocked.example:80', '/page?q=<script>');
    assert.equal(res.status, 403);
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
    assert.match(res.body, /This site is blocked/);
    assert.match(res.body, /Ask Mrs Khan in the library/);
    assert.ok(!res.body.includes('<script>'));
    const link = /href="(https:\/\/haven\.oakfield\.test\/unblock\?kind=unblock&amp;t=[^"]+)"/.exec(res.body)?.[1];
    assert.ok(link, 'the unblock button leads to Haven’s public address');
    const ticket = decodeURIComponent(new URL(link.replace(/&amp;/g, '&')).searchParams.get('t')!);
    assert.equal(haven.services.unblock.describeTicket(ticket).host, 'www.blocked.example');
  });

  it('says a name is not blocked now, and refuses other methods', async () => {
    const res = await ask(server.port, 'fine.example');
    assert.equal(res.status, 200);
    assert.match(res.body, /not blocked now/);
    assert.equal((await ask(server.port, 'blocked.example', '/', 'POST')).status, 405);
    const head = await ask(server.port, 'blocked.example', '/', 'HEAD');
    assert.equal(head.status, 403);
    assert.equal(head.body, '');
  });
});
