/**
 * The Store: every repository over one Kysely handle, and transactions that rebind them all.
 */
import type { Kysely } from 'kysely';
import type { Store } from '../core/index.ts';
import type { Engine } from './engine.ts';
import { kyselyAuditRepository } from './repositories/audit-repository.ts';
import { kyselyDeviceRepository } from './repositories/device-repository.ts';
import { kyselyGroupRepository } from './repositories/group-repository.ts';
import { kyselyIntegrationKeyRepository } from './repositories/integration-key-repository.ts';
import { kyselyLoginRepository } from './repositories/login-repository.ts';
import { kyselyUnblockRequestRepository } from './repositories/unblock-request-repository.ts';
import { kyselyWarnContinueRepository } from './repositories/warn-continue-repository.ts';
import { kyselyEventRepository } from './repositories/event-repository.ts';
import { kyselyPolicyRepository } from './repositories/policy-repository.ts';
import { kyselyPeopleRepository } from './repositories/people-repository.ts';
import { kyselySessionRepository } from './repositories/session-repository.ts';
import { kyselyTenancyRepository } from './repositories/tenancy-repository.ts';
import { kyselyUserRepository } from './repositories/user-repository.ts';
import type { DB } from './schema.ts';

export const createStore = (db: Kysely<DB>, engine: Engine): Store => {
  const store: Store = {
    tenancy: kyselyTenancyRepository(db),
    people: kyselyPeopleRepository(db),
    groups: kyselyGroupRepository(db),
    users: kyselyUserRepository(db),
    sessions: kyselySessionRepository(db),
    audit: kyselyAuditRepository(db, engine),
    policies: kyselyPolicyRepository(db),
    events: kyselyEventRepository(db),
    devices: kyselyDeviceRepository(db),
    integrationKeys: kyselyIntegrationKeyRepository(db),
    logins: kyselyLoginRepository(db),
    unblockRequests: kyselyUnblockRequestRepository(db),
    warnContinues: kyselyWarnContinueRepository(db),
    transaction: (fn) => (db.isTransaction ? fn(store) : db.transaction().execute((tx) => fn(createStore(tx, engine)))),
  };
  return store;
};
