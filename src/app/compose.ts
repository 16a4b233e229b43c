/**
 * The composition root: the one place concrete adapters meet the services.
 */
import { hkdfSync, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { aesSecretBox, argon2PasswordHasher, otplibTotp } from '../adapters/index.ts';
import type { Clock } from '../core/index.ts';
import { createServices, DEFAULT_AUTH_SETTINGS, type Services } from '../services/index.ts';
import { createStore, migrateToLatest, openDatabase, type Database } from '../storage/index.ts';
import { loadClassificationBundle } from './classification.ts';
import type { HavenConfig } from './config.ts';
import { loadSecretKey } from './secret-key.ts';

export interface Haven {
  config: HavenConfig;
  db: Database;
  services: Services;
  healthCheck: () => Promise<void>;
  close: () => Promise<void>;
}

export const systemClock: Clock = { now: () => new Date() };

export const openHaven = async (
  config: HavenConfig,
  options: { migrate?: boolean; clock?: Clock; sqliteFile?: string } = {},
): Promise<Haven> => {
  const db = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteFile: options.sqliteFile });
  try {
    if (options.migrate !== false) await migrateToLatest(db);
    const secretKey = loadSecretKey(config.secretKey, config.dataDir);
    const services = createServices({
      store: createStore(db.kysely, db.engine),
      clock: options.clock ?? systemClock,
      newId: randomUUID,
      hasher: argon2PasswordHasher(),
      totp: otplibTotp(options.clock ?? systemClock),
      secretBox: aesSecretBox(secretKey),
      ticketKey: Buffer.from(hkdfSync('sha256', secretKey, '', 'haven block-page tickets', 32)),
      auth: {
        ...DEFAULT_AUTH_SETTINGS,
        idleLockMinutes: config.idleLockMinutes,
        sessionMaxHours: config.sessionMaxHours,
        maxFailedLogins: config.maxFailedLogins,
        lockoutMinutes: config.lockoutMinutes,
      },
      loadClassification: () => loadClassificationBundle(config.dataDir),
      defaultSchool: config.dnsDefaultSchool,
    });
    return {
      config,
      db,
      services,
      healthCheck: async () => {
        await sql`select 1`.execute(db.kysely);
      },
      close: () => db.close(),
    };
  } catch (err) {
    await db.close();
    throw err;
  }
};
