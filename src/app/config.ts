/**
 * Haven's configuration, all from environment variables (documented in README.md). Invalid
 * values stop start-up with a message naming the variable.
 */
import path from 'node:path';

export interface HavenConfig {
  dataDir: string;
  databaseUrl: string | undefined;
  host: string;
  webPort: number;
  proxyPort: number;
  dnsPort: number;
  bootstrapAdminEmail: string | undefined;
  bootstrapAdminPassword: string | undefined;
  trustName: string;
  idleLockMinutes: number;
  sessionMaxHours: number;
  maxFailedLogins: number;
  lockoutMinutes: number;
  secretKey: string | undefined;
  trustProxy: boolean;
  cookieSecure: 'auto' | boolean;
  logLevel: string;
  logRequests: boolean;
}

type Env = Record<string, string | undefined>;

const int = (env: Env, name: string, fallback: number, min: number, max: number): number => {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  return n;
};

const bool = (env: Env, name: string, fallback: boolean): boolean => {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new Error(`${name} must be true or false (got "${raw}")`);
};

export const loadConfig = (env: Env = process.env, cwd = process.cwd()): HavenConfig => {
  const cookie = env.HAVEN_COOKIE_SECURE?.trim().toLowerCase() || 'auto';
  if (!['auto', 'true', 'false'].includes(cookie)) throw new Error('HAVEN_COOKIE_SECURE must be auto, true or false');
  return {
    dataDir: path.resolve(cwd, env.HAVEN_DATA_DIR?.trim() || './data'),
    databaseUrl: env.HAVEN_DATABASE_URL?.trim() || undefined,
    host: env.HAVEN_HOST?.trim() || '127.0.0.1',
    webPort: int(env, 'HAVEN_WEB_PORT', 8080, 1, 65535),
    proxyPort: int(env, 'HAVEN_PROXY_PORT', 3128, 1, 65535),
    dnsPort: int(env, 'HAVEN_DNS_PORT', 8053, 1, 65535),
    bootstrapAdminEmail: env.HAVEN_BOOTSTRAP_ADMIN_EMAIL?.trim() || undefined,
    bootstrapAdminPassword: env.HAVEN_BOOTSTRAP_ADMIN_PASSWORD || undefined,
    trustName: env.HAVEN_TRUST_NAME?.trim() || 'Oakfield Learning Trust',
    idleLockMinutes: int(env, 'HAVEN_IDLE_LOCK_MINUTES', 10, 1, 480),
    sessionMaxHours: int(env, 'HAVEN_SESSION_MAX_HOURS', 12, 1, 168),
    maxFailedLogins: int(env, 'HAVEN_MAX_FAILED_LOGINS', 5, 1, 100),
    lockoutMinutes: int(env, 'HAVEN_LOCKOUT_MINUTES', 15, 1, 1440),
    secretKey: env.HAVEN_SECRET_KEY?.trim() || undefined,
    trustProxy: bool(env, 'HAVEN_TRUST_PROXY', false),
    cookieSecure: cookie === 'auto' ? 'auto' : cookie === 'true',
    logLevel: env.HAVEN_LOG_LEVEL?.trim() || 'info',
    logRequests: bool(env, 'HAVEN_LOG_REQUESTS', false),
  };
};
