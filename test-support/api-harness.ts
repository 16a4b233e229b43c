/**
 * A whole Haven API over a fresh database, for inject()-based tests: real services, real argon2,
 * TOTP and sealing, a clock the test can move, and shortcuts to sessions for any role.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { aesSecretBox, argon2PasswordHasher, otplibTotp } from '../src/adapters/index.ts';
import { buildApi, SESSION_COOKIE } from '../src/api/index.ts';
import type { Clock, Person, Role, RoleGrant, School } from '../src/core/index.ts';
import { createServices, DEFAULT_AUTH_SETTINGS, systemContext, type AuthSettings, type Services } from '../src/services/index.ts';
import { testEngines, type EngineCase, type TestDatabase } from './databases.ts';
import { fixtureClassification } from './fixture-classification.ts';

export class MutableClock implements Clock {
  current: Date;
  constructor(start = '2026-03-02T09:00:00.000Z') {
    this.current = new Date(start);
  }
  now(): Date {
    return new Date(this.current);
  }
  advanceMinutes(n: number): void {
    this.current = new Date(this.current.getTime() + n * 60_000);
  }
}

export interface Harness {
  app: Awaited<ReturnType<typeof buildApi>>;
  services: Services;
  clock: MutableClock;
  db: TestDatabase;
  schoolA: School;
  schoolB: School;
  /** A pupil at school A, for routes that need a person. */
  pupilA: Person;
  /** A session cookie for a new user holding these grants, past login and 2FA. */
  sessionFor(grants: RoleGrant[]): Promise<{ cookie: string; userId: string; email: string }>;
  close(): Promise<void>;
}

export const sqliteEngine = (): EngineCase => testEngines().find((e) => e.name === 'sqlite')!;

export const cookieHeader = (token: string) => `${SESSION_COOKIE}=${token}`;

export const createHarness = async (options: { engine?: EngineCase; auth?: Partial<AuthSettings> } = {}): Promise<Harness> => {
  const db = await (options.engine ?? sqliteEngine()).open();
  const clock = new MutableClock();
  const services = createServices({
    store: db.store,
    clock,
    newId: randomUUID,
    hasher: argon2PasswordHasher(),
    totp: otplibTotp(clock),
    secretBox: aesSecretBox(randomBytes(32)),
    auth: { ...DEFAULT_AUTH_SETTINGS, ...options.auth },
    loadClassification: () => Promise.resolve(fixtureClassification()),
  });
  const ctx = systemContext('test');
  await services.tenancy.ensureTrust('Test Trust');
  const schoolA = await services.tenancy.createSchool(ctx, { name: 'Alpha Primary', urn: '100001' });
  const schoolB = await services.tenancy.createSchool(ctx, { name: 'Beta Academy', urn: '100002' });
  const pupilA = await services.people.create(ctx, schoolA.id, {
    kind: 'pupil',
    firstName: 'Ada',
    lastName: 'Lovelace',
    upn: 'B801200005001',
    yearGroup: '5',
    dateOfBirth: '2016-10-01',
  });
  const app = await buildApi({ services, version: 'test', healthCheck: () => Promise.resolve() });
  await app.ready();
  // One password hash reused for every shortcut user keeps the role walk fast.
  const sharedHash = await services.deps.hasher.hash('correct horse battery staple');
  let n = 0;
  return {
    app,
    services,
    clock,
    db,
    schoolA,
    schoolB,
    pupilA,
    async sessionFor(grants) {
      const at = clock.now().toISOString();
      const id = randomUUID();
      const email = `user${++n}-${grants.map((g) => g.role).join('-')}@test.example`;
      await db.store.users.create({
        id,
        email,
        displayName: `Test ${grants.map((g) => g.role).join(' ')}`,
        personId: null,
        passwordHash: sharedHash,
        mustChangePassword: false,
        totpSecret: null,
        totpEnabled: false,
        failedLogins: 0,
        lockedUntil: null,
        disabled: false,
        createdAt: at,
        updatedAt: at,
        grants,
      });
      const token = randomBytes(32).toString('base64url');
      await db.store.sessions.create({
        idHash: createHash('sha256').update(token).digest('hex'),
        userId: id,
        createdAt: at,
        lastSeenAt: at,
        expiresAt: new Date(clock.now().getTime() + 3_600_000).toISOString(),
        mfaOk: true,
        locked: false,
        ip: null,
        userAgent: null,
      });
      return { cookie: cookieHeader(token), userId: id, email };
    },
    async close() {
      await app.close();
      await db.close();
    },
  };
};

export const roleGrant = (role: Role, schoolId: string | null): RoleGrant => ({ role, schoolId });
