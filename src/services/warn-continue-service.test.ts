/**
 * Going on past a warning: the choice opens the host (and its sub-domains) for that person, or
 * for a guest's address, for an hour; nobody else; not from a block ticket; and another process
 * learns of it at its next poll.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from '../../test-support/api-harness.ts';
import { DomainError } from '../core/index.ts';
import { createServices } from './index.ts';

describe('warn continues', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(() => h.close());

  const ticket = (over: Partial<Parameters<Harness['services']['unblock']['ticketFor']>[0]> = {}) =>
    h.services.unblock.ticketFor({
      schoolId: h.schoolA.id,
      host: 'videos.example',
      url: null,
      category: 'streaming',
      action: 'warn',
      personId: h.pupilA.id,
      deviceId: null,
      clientIp: '10.0.0.9',
      illegal: false,
      at: h.clock.now(),
      ...over,
    });

  it('opens the host and its sub-domains for that person for an hour, and for nobody else', async () => {
    const w = h.services.warnContinues;
    assert.equal(w.allows(h.schoolA.id, h.pupilA.id, '10.0.0.9', 'videos.example'), false);
    const chosen = await w.choose(ticket());
    assert.equal(chosen.host, 'videos.example');
    assert.equal(w.allows(h.schoolA.id, h.pupilA.id, '10.0.0.77', 'videos.example'), true, 'the person, wherever they are');
    assert.equal(w.allows(h.schoolA.id, h.pupilA.id, null, 'cdn.videos.example'), true, 'a sub-domain');
    assert.equal(w.allows(h.schoolA.id, h.pupilA.id, null, 'example'), false, 'not a parent');
    assert.equal(w.allows(h.schoolA.id, 'someone-else', '10.0.0.9', 'videos.example'), false);
    assert.equal(w.allows(h.schoolB.id, h.pupilA.id, null, 'videos.example'), false);
    h.clock.advanceMinutes(61);
    assert.equal(w.allows(h.schoolA.id, h.pupilA.id, null, 'videos.example'), false, 'an hour only');
  });

  it('counts a guest by address', async () => {
    await h.services.warnContinues.choose(ticket({ personId: null, clientIp: '10.0.0.50', host: 'chat.example' }));
    assert.equal(h.services.warnContinues.allows(h.schoolA.id, null, '10.0.0.50', 'chat.example'), true);
    assert.equal(h.services.warnContinues.allows(h.schoolA.id, null, '10.0.0.51', 'chat.example'), false);
  });

  it('refuses block-page and illegal-tier tickets and forgeries', async () => {
    for (const t of [ticket({ action: 'block' }), ticket({ illegal: true }), 'x.y']) {
      await assert.rejects(h.services.warnContinues.choose(t), (e: unknown) => e instanceof DomainError && e.status === 400);
    }
  });

  it('reaches another process at its next poll', async () => {
    const other = createServices({ ...h.services.deps });
    await other.warnContinues.poll();
    await h.services.warnContinues.choose(ticket({ host: 'music.example' }));
    assert.equal(other.warnContinues.allows(h.schoolA.id, h.pupilA.id, null, 'music.example'), false);
    assert.equal(await other.warnContinues.poll(), 1);
    assert.equal(other.warnContinues.allows(h.schoolA.id, h.pupilA.id, null, 'music.example'), true);
  });
});
