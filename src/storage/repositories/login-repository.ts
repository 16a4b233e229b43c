import { sql, type Kysely } from 'kysely';
import type {
  LoginFeedRow,
  LoginKind,
  LoginListItem,
  LoginRecord,
  LoginRepository,
  LoginSource,
  PersonKind,
  YearGroup,
} from '../../core/index.ts';
import type { DB, IdentityLoginTable } from '../schema.ts';

type Row = Omit<IdentityLoginTable, 'seq'> & { seq: number | string };

const toLogin = (r: Row): LoginRecord => ({
  // PostgreSQL's bigserial arrives as a string.
  seq: Number(r.seq),
  schoolId: r.school_id,
  kind: r.kind as LoginKind,
  ip: r.ip,
  username: r.username,
  personId: r.person_id,
  source: r.source as LoginSource,
  keyId: r.key_id,
  at: r.at,
  expiresAt: r.expires_at,
  receivedAt: r.received_at,
});

/** `x` as a LIKE pattern matching itself only (with ESCAPE '\'). */
const likeLiteral = (x: string): string => x.replace(/[\\%_]/g, (c) => `\\${c}`);

export const kyselyLoginRepository = (db: Kysely<DB>): LoginRepository => ({
  async append(rows) {
    // Chunks keep each statement well under both engines' parameter limits.
    for (let i = 0; i < rows.length; i += 500) {
      await db
        .insertInto('identity_login')
        .values(
          rows.slice(i, i + 500).map((r) => ({
            school_id: r.schoolId,
            kind: r.kind,
            ip: r.ip,
            username: r.username,
            person_id: r.personId,
            source: r.source,
            key_id: r.keyId,
            at: r.at,
            expires_at: r.expiresAt,
            received_at: r.receivedAt,
          })),
        )
        .execute();
    }
  },

  async feed(afterSeq, receivedSince, limit) {
    const rows = await db
      .selectFrom('identity_login')
      .leftJoin('person', 'person.id', 'identity_login.person_id')
      .selectAll('identity_login')
      .select(['person.kind as person_kind', 'person.year_group', 'person.left_at'])
      .where('identity_login.seq', '>', afterSeq)
      .where('identity_login.received_at', '>=', receivedSince)
      .orderBy('identity_login.seq')
      .limit(limit)
      .execute();
    const personIds = [...new Set(rows.map((r) => r.person_id).filter((id): id is string => id !== null))];
    const groupsOf = new Map<string, string[]>();
    for (let i = 0; i < personIds.length; i += 500) {
      const members = await db
        .selectFrom('group_member')
        .select(['person_id', 'group_id'])
        .where('person_id', 'in', personIds.slice(i, i + 500))
        .execute();
      for (const m of members) {
        const list = groupsOf.get(m.person_id);
        if (list) list.push(m.group_id);
        else groupsOf.set(m.person_id, [m.group_id]);
      }
    }
    return rows.map((r): LoginFeedRow => ({
      ...toLogin(r),
      person:
        r.person_id === null || r.person_kind === null
          ? null
          : {
              kind: r.person_kind as PersonKind,
              yearGroup: r.year_group as YearGroup | null,
              leftAt: r.left_at,
              groupIds: groupsOf.get(r.person_id) ?? [],
            },
    }));
  },

  async recent(schoolId, limit) {
    const rows = await db
      .selectFrom('identity_login')
      .leftJoin('person', 'person.id', 'identity_login.person_id')
      .selectAll('identity_login')
      .select(['person.first_name', 'person.last_name'])
      .where('identity_login.school_id', '=', schoolId)
      .orderBy('identity_login.seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r): LoginListItem => ({
      ...toLogin(r),
      personName: r.first_name === null || r.last_name === null ? null : `${r.first_name} ${r.last_name}`,
    }));
  },

  async matchPeople(schoolId, username) {
    const name = username.toLowerCase();
    const rows = await db
      .selectFrom('person')
      .select('id')
      .where('school_id', '=', schoolId)
      .where('left_at', 'is', null)
      .where('kind', 'in', ['pupil', 'staff'])
      .where((eb) => {
        const ors = [eb(sql<string>`lower(email)`, '=', name), eb('upn', '=', username.toUpperCase())];
        if (!name.includes('@')) ors.push(eb(sql<string>`lower(email)`, 'like', sql<string>`${`${likeLiteral(name)}@%`} escape '\\'`));
        return eb.or(ors);
      })
      .limit(5)
      .execute();
    return rows;
  },

  async deleteBefore(before, limit) {
    const doomed = db.selectFrom('identity_login').select('seq').where('received_at', '<', before).orderBy('seq').limit(limit);
    const r = await db.deleteFrom('identity_login').where('seq', 'in', doomed).executeTakeFirst();
    return Number(r.numDeletedRows);
  },
});
