/**
 * A warned name through the DNS filter of a real Haven (embedded SQLite, the fixture lists): a
 * guest asking for a games site (a warning for guests) is pointed at the block page, where the
 * warning's "go on" link is; once they choose to go on, the same address gets the real answer —
 * and another guest address still gets the warning.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  aRecord,
  answerAddresses,
  buildQuery,
  buildResponse,
  startFakeUpstream,
  type FakeUpstream,
} from '../dataplane/dns/test-upstream.ts';
import { systemContext } from '../services/index.ts';
import { havenCli } from '../../test-support/processes.ts';
import { openHaven, type Haven } from './compose.ts';
import { loadConfig } from './config.ts';
import { createDnsStack, type DnsStack } from './dns.ts';

/** In the fixture lists' ut1/games: a warning for guests. */
const GAMES = 'fun-games.example';

describe('DNS warnings and going on past them', () => {
  let dir: string;
  let haven: Haven;
  let stack: DnsStack;
  let upstream: FakeUpstream;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-dns-warn-'));
    havenCli(['lists', 'import', '--from', path.resolve('test-fixtures/lists/tree'), '--reason', 'Lists for the warning test'], dir);
    upstream = await startFakeUpstream((q) => buildResponse(q, { answers: [aRecord(GAMES, '192.0.2.50', 300)] }));
    haven = await openHaven(
      loadConfig({
        HAVEN_DATA_DIR: dir,
        HAVEN_DNS_UPSTREAM: upstream.address,
        HAVEN_DNS_BLOCK_IPV4: '192.0.2.99',
        HAVEN_ILLEGAL_CANARIES: '',
      }),
    );
    await haven.services.tenancy.ensureTrust('Test Trust');
    await haven.services.tenancy.createSchool(systemContext('test'), { name: 'Warning Primary' });
    stack = await createDnsStack(haven);
  });
  after(async () => {
    await stack?.close();
    await upstream?.close();
    await haven?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = async (ip: string) => answerAddresses((await stack.handler.handle(buildQuery(GAMES), { ip, transport: 'udp' }))!);

  it('points a guest at the block page until they choose to go on, then answers', async () => {
    assert.deepEqual(await ask('10.0.0.5'), ['192.0.2.99'], 'the warning page');
    const schoolId = haven.services.identity.identify({ ip: '10.0.0.5' })!.schoolId;
    const ticket = haven.services.unblock.ticketFor({
      schoolId,
      host: GAMES,
      url: null,
      category: 'games',
      action: 'warn',
      personId: null,
      deviceId: null,
      clientIp: '10.0.0.5',
      illegal: false,
      at: new Date(),
    });
    await haven.services.warnContinues.choose(ticket);
    assert.deepEqual(await ask('10.0.0.5'), ['192.0.2.50'], 'the real answer');
    assert.deepEqual(await ask('10.0.0.6'), ['192.0.2.99'], 'another guest is still warned');
  });
});
