import type { Kysely } from 'kysely';
import {
  DomainError,
  type UnblockRequestKind,
  type UnblockRequestListItem,
  type UnblockRequestRecord,
  type UnblockRequestRepository,
  type UnblockRequestStatus,
} from '../../core/index.ts';
import type { DB, UnblockRequestTable } from '../schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

type Row = UnblockRequestTable & { first_name: string | null; last_name: string | null };

const toItem = (r: Row): UnblockRequestListItem => ({
  id: r.id,
  schoolId: r.school_id,
  kind: r.kind as UnblockRequestKind,
  ticketNonce: r.ticket_nonce,
  host: r.host,
  url: r.url,
  category: r.category,
  action: r.action === 'warn' ? 'warn' : 'block',
  personId: r.person_id,
  deviceId: r.device_id,
  clientIp: r.client_ip,
  blockedAt: r.blocked_at,
  message: r.message,
  createdAt: r.created_at,
  status: r.status as UnblockRequestStatus,
  answeredBy: r.answered_by,
  answeredAt: r.answered_at,
  answerNote: r.answer_note,
  personName: r.first_name === null || r.last_name === null ? null : `${r.first_name} ${r.last_name}`,
});

export const kyselyUnblockRequestRepository = (db: Kysely<DB>): UnblockRequestRepository => {
  const withNames = () =>
    db
      .selectFrom('unblock_request')
      .leftJoin('person', 'person.id', 'unblock_request.person_id')
      .selectAll('unblock_request')
      .select(['person.first_name', 'person.last_name']);
  return {
    async create(r: UnblockRequestRecord) {
      try {
        await db
          .insertInto('unblock_request')
          .values({
            id: r.id,
            school_id: r.schoolId,
            kind: r.kind,
            ticket_nonce: r.ticketNonce,
            host: r.host,
            url: r.url,
            category: r.category,
            action: r.action,
            person_id: r.personId,
            device_id: r.deviceId,
            client_ip: r.clientIp,
            blocked_at: r.blockedAt,
            message: r.message,
            created_at: r.createdAt,
            status: r.status,
            answered_by: r.answeredBy,
            answered_at: r.answeredAt,
            answer_note: r.answerNote,
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new DomainError('CONFLICT', 'This has been sent already', 409);
        throw err;
      }
    },
    async get(id) {
      const r = await withNames().where('unblock_request.id', '=', id).executeTakeFirst();
      return r ? toItem(r) : null;
    },
    async list(q) {
      if (q.kinds.length === 0) return [];
      let query = withNames()
        .where('unblock_request.school_id', '=', q.schoolId)
        .where('unblock_request.kind', 'in', [...q.kinds]);
      if (q.status) query = query.where('unblock_request.status', '=', q.status);
      const rows = await query.orderBy('unblock_request.created_at', 'desc').orderBy('unblock_request.id').limit(q.limit).execute();
      return rows.map(toItem);
    },
    async answer(id, a) {
      const r = await db
        .updateTable('unblock_request')
        .set({ status: a.status, answered_by: a.by, answered_at: a.at, answer_note: a.note })
        .where('id', '=', id)
        .where('status', '=', 'open')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
};
