/**
 * Leaf certificates for the hosts the proxy decrypts, minted on demand from the interception CA
 * and kept in a bounded LRU. The proxy calls `contextFor(host)` with the SNI (or CONNECT) host and
 * hands the SecureContext to its TLS server socket.
 *
 * - One ECDSA P-256 key, made when the cache is, serves every leaf: minting is then one signature
 *   (about 3 ms) instead of a key generation as well. The key lives only in this process's memory.
 * - Leaves are backdated two days (devices with a slow clock) and valid for at most 397 days in
 *   all, the longest browsers accept, and never past the CA's own end. The cache re-mints long
 *   before that (`ttlMs`), so a process that runs for months never serves an old leaf.
 * - Concurrent requests for one host share one minting; a failed minting is not cached.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { isIP } from 'node:net';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { LRUCache } from 'lru-cache';
import { EC_ALGORITHM, randomSerial, type InterceptionCa } from './ca.ts';

const DAY = 24 * 60 * 60 * 1000;
/** The CA/Browser Forum and Apple limit (398 days) less a day of margin. */
export const MAX_LEAF_VALIDITY_DAYS = 397;
export const LEAF_BACKDATE_MS = 2 * DAY;

export interface LeafCacheOptions {
  /** Hosts kept (default 5,000: ~5 KB each with its SecureContext). */
  readonly max?: number;
  /** How long a minted leaf is served before it is minted again (default 7 days). */
  readonly ttlMs?: number;
  /** Total validity, backdating included (default and maximum 397 days). */
  readonly validityDays?: number;
  readonly now?: () => Date;
}

export interface LeafCertificate {
  /** The normalised host the leaf names: lower case, no trailing dot, IPv6 without brackets. */
  readonly host: string;
  readonly certPem: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface LeafCache {
  /** A TLS server context presenting a leaf for `host`. Rejects a name that cannot be a certificate's subject. */
  readonly contextFor: (host: string) => Promise<SecureContext>;
  /** The leaf itself (for tests and diagnostics). */
  readonly certificateFor: (host: string) => Promise<LeafCertificate>;
  /** Hosts cached now. */
  readonly size: number;
  /** Leaves minted since the cache was made (a cache hit does not count). */
  readonly minted: number;
  readonly clear: () => void;
}

/** A DNS name a certificate can carry: letters, digits, hyphens (and underscores, which real hosts use) in labels of 1–63. */
const DNS_NAME = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * The host as a certificate names it, or null when it cannot be one (empty, a wildcard, Unicode
 * not in punycode, over-long labels). IPv6 may come bracketed from a CONNECT line.
 */
export const leafHostKey = (host: string): string | null => {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (isIP(h) !== 0) return h;
  if (h.endsWith('.')) h = h.slice(0, -1);
  return DNS_NAME.test(h) ? h : null;
};

const crypto = webcrypto as unknown as Crypto;

interface Minted {
  readonly leaf: LeafCertificate;
  readonly context: SecureContext;
}

export const createLeafCache = (ca: InterceptionCa, options: LeafCacheOptions = {}): LeafCache => {
  const validityDays = Math.min(options.validityDays ?? MAX_LEAF_VALIDITY_DAYS, MAX_LEAF_VALIDITY_DAYS);
  if (!(validityDays > 2)) throw new Error('validityDays must be more than the two days of backdating');
  const now = options.now ?? (() => new Date());
  let minted = 0;

  // Made once, lazily: the one key every leaf of this process carries.
  let leafKey: Promise<{ keys: CryptoKeyPair; keyPem: string }> | null = null;
  const key = () =>
    (leafKey ??= (async () => {
      const keys = await crypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']);
      const keyPem = x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
      return { keys, keyPem };
    })());
  const authorityKeyId = x509.AuthorityKeyIdentifierExtension.create(ca.certificate, false, crypto);

  const mint = async (host: string): Promise<Minted> => {
    const { keys, keyPem } = await key();
    const at = now().getTime();
    const notBefore = new Date(at - LEAF_BACKDATE_MS);
    const notAfter = new Date(Math.min(notBefore.getTime() + validityDays * DAY, ca.notAfter.getTime()));
    if (notAfter.getTime() <= at) throw new Error('The interception CA has expired: create a new one with "haven ca init --force"');
    const ip = isIP(host) !== 0;
    const serialNumber = randomSerial();
    const subject: x509.JsonName = host.length <= 64 ? [{ CN: [host] }] : [];
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber,
        subject,
        issuer: ca.certificate.subjectName,
        notBefore,
        notAfter,
        signingAlgorithm: EC_ALGORITHM,
        publicKey: keys.publicKey,
        signingKey: ca.signingKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          // An empty subject makes the SAN the only name, and then it must be critical (RFC 5280 4.2.1.6).
          new x509.SubjectAlternativeNameExtension([{ type: ip ? 'ip' : 'dns', value: host }], subject.length === 0),
          await authorityKeyId,
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    const certPem = cert.toString('pem');
    minted++;
    return {
      leaf: { host, certPem, serialNumber, notBefore, notAfter },
      context: createSecureContext({ key: keyPem, cert: certPem, minVersion: 'TLSv1.2' }),
    };
  };

  const cache = new LRUCache<string, Promise<Minted>>({
    max: options.max ?? 5000,
    ttl: options.ttlMs ?? 7 * DAY,
    // Age by the clock the leaves are dated with, so tests can move time.
    perf: { now: () => now().getTime() },
    ttlResolution: 0,
  });

  const get = (host: string): Promise<Minted> => {
    const key = leafHostKey(host);
    if (key === null) return Promise.reject(new Error(`Cannot mint a certificate for ${JSON.stringify(host.slice(0, 300))}`));
    const cached = cache.get(key);
    if (cached) return cached;
    const pending = mint(key);
    cache.set(key, pending);
    // A failure is not remembered: the next request tries again. (Only if it is still this entry.)
    pending.catch(() => {
      if (cache.peek(key) === pending) cache.delete(key);
    });
    return pending;
  };

  return {
    contextFor: async (host) => (await get(host)).context,
    certificateFor: async (host) => (await get(host)).leaf,
    get size() {
      return cache.size;
    },
    get minted() {
      return minted;
    },
    clear: () => cache.clear(),
  };
};
