import type { Kysely } from 'kysely';
import { DomainError, type IntegrationKeyRecord, type IntegrationKeyRepository } from '../../core/index.ts';
import type { DB, IntegrationKeyTable } from '../schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const toKey = (r: IntegrationKeyTable): IntegrationKeyRecord => ({
  id: r.id,
  schoolId: r.school_id,
  name: r.name,
  scopes: JSON.parse(r.scopes) as string[],
  keyHash: r.key_hash,
  keyPrefix: r.key_prefix,
  createdBy: r.created_by,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export const kyselyIntegrationKeyRepository = (db: Kysely<DB>): IntegrationKeyRepository => ({
  async list(schoolId) {
    const rows = await db
      .selectFrom('integration_key')
      .selectAll()
      .where('school_id', '=', schoolId)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map(toKey);
  },

  async get(id) {
    const r = await db.selectFrom('integration_key').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toKey(r) : null;
  },

  async findActiveByHash(keyHash) {
    const r = await db
      .selectFrom('integration_key')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return r ? toKey(r) : null;
  },

  async create(k) {
    try {
      await db
        .insertInto('integration_key')
        .values({
          id: k.id,
          school_id: k.schoolId,
          name: k.name,
          scopes: JSON.stringify(k.scopes),
          key_hash: k.keyHash,
          key_prefix: k.keyPrefix,
          created_by: k.createdBy,
          created_at: k.createdAt,
          last_used_at: k.lastUsedAt,
          revoked_at: k.revokedAt,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('CONFLICT', `The school already has a key called "${k.name}"`, 409);
      throw err;
    }
  },

  async revoke(id, at) {
    const r = await db
      .updateTable('integration_key')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  async touch(id, at) {
    await db.updateTable('integration_key').set({ last_used_at: at }).where('id', '=', id).execute();
  },
});
