import { sql, type Kysely } from 'kysely';
import {
  DomainError,
  type DeviceIdentityRow,
  type DeviceListItem,
  type DeviceRecord,
  type DeviceRepository,
  type PersonKind,
  type YearGroup,
} from '../../core/index.ts';
import type { DB, DeviceTable } from '../schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const toDevice = (r: DeviceTable): DeviceRecord => ({
  id: r.id,
  schoolId: r.school_id,
  label: r.label,
  kind: r.kind,
  personId: r.person_id,
  ip: r.ip,
  mac: r.mac,
  tokenHash: r.token_hash,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  revokedAt: r.revoked_at,
});

const taken = () =>
  new DomainError('CONFLICT', 'Another active device of this school has the same name, address or MAC (perhaps just added)', 409);

const uniquely = async <T>(work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (err) {
    if (isUniqueViolation(err)) throw taken();
    throw err;
  }
};

export const kyselyDeviceRepository = (db: Kysely<DB>): DeviceRepository => ({
  async list(schoolId, options = {}) {
    let q = db
      .selectFrom('device')
      .leftJoin('person', 'person.id', 'device.person_id')
      .selectAll('device')
      .select(['person.first_name', 'person.last_name'])
      .where('device.school_id', '=', schoolId);
    if (!options.includeRevoked) q = q.where('device.revoked_at', 'is', null);
    const rows = await q.orderBy('device.created_at', 'desc').orderBy('device.id').execute();
    return rows.map((r): DeviceListItem => ({
      ...toDevice(r),
      personName: r.first_name === null || r.last_name === null ? null : `${r.first_name} ${r.last_name}`,
    }));
  },

  async get(id) {
    const r = await db.selectFrom('device').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toDevice(r) : null;
  },

  async findActive(schoolId, field, value) {
    let q = db.selectFrom('device').selectAll().where('school_id', '=', schoolId).where('revoked_at', 'is', null);
    q = field === 'label' ? q.where(sql<string>`lower(label)`, '=', value.toLowerCase()) : q.where(field, '=', value);
    const r = await q.limit(1).executeTakeFirst();
    return r ? toDevice(r) : null;
  },

  async create(d) {
    await uniquely(() =>
      db
        .insertInto('device')
        .values({
          id: d.id,
          school_id: d.schoolId,
          label: d.label,
          kind: d.kind,
          person_id: d.personId,
          ip: d.ip,
          mac: d.mac,
          token_hash: d.tokenHash,
          created_at: d.createdAt,
          updated_at: d.updatedAt,
          revoked_at: d.revokedAt,
        })
        .execute(),
    );
  },

  async update(id, changes, at) {
    const set: Partial<DeviceTable> = { updated_at: at };
    if (changes.label !== undefined) set.label = changes.label;
    if (changes.kind !== undefined) set.kind = changes.kind;
    if (changes.personId !== undefined) set.person_id = changes.personId;
    if (changes.ip !== undefined) set.ip = changes.ip;
    if (changes.mac !== undefined) set.mac = changes.mac;
    await uniquely(() => db.updateTable('device').set(set).where('id', '=', id).execute());
  },

  async setTokenHash(id, tokenHash, at) {
    const r = await uniquely(() =>
      db
        .updateTable('device')
        .set({ token_hash: tokenHash, updated_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    return Number(r.numUpdatedRows) > 0;
  },

  async revoke(id, at) {
    const r = await db
      .updateTable('device')
      .set({ revoked_at: at, updated_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  async identities() {
    const rows = await db
      .selectFrom('device')
      .leftJoin('person', 'person.id', 'device.person_id')
      .select([
        'device.id',
        'device.school_id',
        'device.ip',
        'device.mac',
        'device.token_hash',
        'device.person_id',
        'person.kind as person_kind',
        'person.year_group',
        'person.left_at',
      ])
      .where('device.revoked_at', 'is', null)
      .execute();
    const memberships = await db
      .selectFrom('group_member')
      .innerJoin('device', 'device.person_id', 'group_member.person_id')
      .select(['group_member.person_id', 'group_member.group_id'])
      .where('device.revoked_at', 'is', null)
      .distinct()
      .execute();
    const groupsOf = new Map<string, string[]>();
    for (const m of memberships) {
      const list = groupsOf.get(m.person_id);
      if (list) list.push(m.group_id);
      else groupsOf.set(m.person_id, [m.group_id]);
    }
    return rows.map((r): DeviceIdentityRow => ({
      id: r.id,
      schoolId: r.school_id,
      ip: r.ip,
      mac: r.mac,
      tokenHash: r.token_hash,
      person:
        r.person_id === null || r.person_kind === null
          ? null
          : {
              id: r.person_id,
              kind: r.person_kind as PersonKind,
              yearGroup: r.year_group as YearGroup | null,
              leftAt: r.left_at,
              groupIds: (groupsOf.get(r.person_id) ?? []).sort(),
            },
    }));
  },
});
