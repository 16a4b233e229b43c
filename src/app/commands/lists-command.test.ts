import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ILLEGAL_CANARY } from '../../core/index.ts';
import { categoryMapPath, listsSettingsFromEnv, loadCategoryMap, startScheduledListUpdates } from './lists-command.ts';

describe('lists command settings', () => {
  it('reads HAVEN_LISTS_URL, HAVEN_LISTS_UPDATE_HOURS and HAVEN_ILLEGAL_CANARIES', () => {
    assert.deepEqual(listsSettingsFromEnv({}), { url: undefined, updateHours: 24, canaries: [DEFAULT_ILLEGAL_CANARY] });
    assert.deepEqual(
      listsSettingsFromEnv({
        HAVEN_LISTS_URL: ' https://dsi.example/blacklists.tar.gz ',
        HAVEN_LISTS_UPDATE_HOURS: '6',
        HAVEN_ILLEGAL_CANARIES: 'a.test',
      }),
      { url: 'https://dsi.example/blacklists.tar.gz', updateHours: 6, canaries: ['a.test'] },
    );
    assert.throws(() => listsSettingsFromEnv({ HAVEN_LISTS_URL: 'ftp://x' }), /HAVEN_LISTS_URL must be an http or https URL/);
    assert.throws(() => listsSettingsFromEnv({ HAVEN_LISTS_UPDATE_HOURS: '-1' }), /HAVEN_LISTS_UPDATE_HOURS/);
    assert.throws(() => listsSettingsFromEnv({ HAVEN_LISTS_UPDATE_HOURS: 'daily' }), /HAVEN_LISTS_UPDATE_HOURS/);
    assert.throws(() => listsSettingsFromEnv({ HAVEN_ILLEGAL_CANARIES: 'not a host' }), /HAVEN_ILLEGAL_CANARIES/);
  });

  it('starts no scheduled updates without a URL or with 0 hours', () => {
    assert.equal(startScheduledListUpdates({ env: {}, dataDir: '/nonexistent' }), null);
    assert.equal(
      startScheduledListUpdates({
        env: { HAVEN_LISTS_URL: 'https://x.example/a.tgz', HAVEN_LISTS_UPDATE_HOURS: '0' },
        dataDir: '/nonexistent',
      }),
      null,
    );
  });

  it('finds and validates data/category-map.json against Haven’s categories', () => {
    assert.match(categoryMapPath(), /data[/\\]category-map\.json$/);
    assert.ok(loadCategoryMap().rules.length > 80);
  });
});
