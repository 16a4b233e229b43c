/**
 * Integration keys: what a school's own systems (a logon script, the RADIUS server, an agent on
 * shared computers) present to call Haven's integration API, as `Authorization: Bearer hvn_…`.
 * A key belongs to one school and carries scopes ("identity": send the login feed). The key is
 * 32 random bytes, shown once when it is made; Haven keeps its SHA-256 and its first characters
 * so people can tell keys apart. Making and revoking keys is audited.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DomainError, invalid, notFound, type IntegrationKeyRecord } from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';

export const INTEGRATION_SCOPES = ['identity'] as const;
export type IntegrationScope = (typeof INTEGRATION_SCOPES)[number];

export const MAX_KEY_NAME = 80;
const KEY_PREFIX = 'hvn_';
/** How long a key's "last used" time may lag: one write a minute per key, not one per call. */
const TOUCH_EVERY_MS = 60_000;

export interface IntegrationKeyView {
  id: string;
  schoolId: string;
  name: string;
  scopes: IntegrationScope[];
  /** "hvn_3f9a2c1b…": enough to recognise a key, not to use it. */
  hint: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface IntegrationKeyWithSecret {
  key: IntegrationKeyView;
  /** The key itself: shown this once. */
  secret: string;
}

export const hashIntegrationKey = (secret: string): string => createHash('sha256').update(secret).digest('hex');

const view = (k: IntegrationKeyRecord): IntegrationKeyView => ({
  id: k.id,
  schoolId: k.schoolId,
  name: k.name,
  scopes: k.scopes.filter((s): s is IntegrationScope => (INTEGRATION_SCOPES as readonly string[]).includes(s)),
  hint: `${k.keyPrefix}…`,
  createdAt: k.createdAt,
  lastUsedAt: k.lastUsedAt,
  revokedAt: k.revokedAt,
});

const cleanName = (raw: string): string => {
  const name = raw.trim().replace(/\s+/g, ' ');
  const bad = (message: string) => invalid(message, [{ path: '/name', message }]);
  if (!name) throw bad('Name the key after what will use it, such as "Logon script" or "RADIUS server"');
  if (name.length > MAX_KEY_NAME) throw bad(`The name is longer than ${MAX_KEY_NAME} characters`);
  if (/\p{Cc}/u.test(name)) throw bad('The name contains control characters');
  return name;
};

export const createIntegrationKeyService = (deps: ServiceDeps) => {
  const { store } = deps;
  const touched = new Map<string, number>();

  const requireSchool = async (schoolId: string) => {
    if (!(await store.tenancy.getSchool(schoolId))) throw notFound('SCHOOL_NOT_FOUND', 'School');
  };

  return {
    async list(schoolId: string): Promise<IntegrationKeyView[]> {
      await requireSchool(schoolId);
      return (await store.integrationKeys.list(schoolId)).map(view);
    },

    async create(
      ctx: RequestContext,
      schoolId: string,
      input: { name: string; scopes?: readonly IntegrationScope[] | undefined },
    ): Promise<IntegrationKeyWithSecret> {
      await requireSchool(schoolId);
      const name = cleanName(input.name);
      const scopes = [...new Set(input.scopes ?? ['identity'])];
      if (scopes.length === 0) throw invalid('Give the key at least one scope', [{ path: '/scopes', message: 'empty' }]);
      const secret = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      const at = nowIso(deps);
      const record: IntegrationKeyRecord = {
        id: deps.newId(),
        schoolId,
        name,
        scopes,
        keyHash: hashIntegrationKey(secret),
        keyPrefix: secret.slice(0, KEY_PREFIX.length + 8),
        createdBy: ctx.actorLabel,
        createdAt: at,
        lastUsedAt: null,
        revokedAt: null,
      };
      await store.transaction(async (tx) => {
        await tx.integrationKeys.create(record);
        await recordAudit(tx, ctx, at, {
          action: 'integration_key.created',
          resourceType: 'integration_key',
          resourceId: record.id,
          schoolId,
          detail: { scopes },
        });
      });
      return { key: view(record), secret };
    },

    async revoke(ctx: RequestContext, schoolId: string, keyId: string): Promise<IntegrationKeyView> {
      const current = await store.integrationKeys.get(keyId);
      if (!current || current.schoolId !== schoolId) throw notFound('NOT_FOUND', 'Integration key');
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        if (!(await tx.integrationKeys.revoke(keyId, at))) {
          throw new DomainError('CONFLICT', `The key "${current.name}" has already been revoked`, 409);
        }
        await recordAudit(tx, ctx, at, { action: 'integration_key.revoked', resourceType: 'integration_key', resourceId: keyId, schoolId });
      });
      touched.delete(keyId);
      return view({ ...current, revokedAt: at });
    },

    /** The active key for a presented secret, if it holds the scope; null otherwise (the caller answers 401). */
    async authenticate(secret: string | undefined, scope: IntegrationScope): Promise<IntegrationKeyRecord | null> {
      if (!secret?.startsWith(KEY_PREFIX) || secret.length > 128) return null;
      const key = await store.integrationKeys.findActiveByHash(hashIntegrationKey(secret));
      if (!key?.scopes.includes(scope)) return null;
      const now = deps.clock.now().getTime();
      if (now - (touched.get(key.id) ?? 0) >= TOUCH_EVERY_MS) {
        touched.set(key.id, now);
        await store.integrationKeys.touch(key.id, new Date(now).toISOString());
      }
      return key;
    },
  };
};

export type IntegrationKeyService = ReturnType<typeof createIntegrationKeyService>;
