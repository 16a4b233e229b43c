/**
 * Recognises clients from memory, for the data plane. In order:
 *
 * 1. a device token (DoH at `/dns-query/<token>`): that device's school, person and id;
 * 2. a login at the address, from the login feed (a logon script, RADIUS accounting, an agent,
 *    the proxy's sign-in), until its logout or expiry: that person, at that school;
 * 3. a registered device address, or a registered MAC at the address the DHCP server leased it:
 *    the device's school, person and id;
 * 4. a school's own places (its sites and networks, in its saved policy) — the most specific
 *    range wins — as a guest of that school;
 * 5. the default school (HAVEN_DNS_DEFAULT_SCHOOL, else the only school, else the first one
 *    added) as a guest.
 *
 * A device given to a pupil or member of staff carries that person's kind, year group and group
 * memberships, so their policy group applies wherever the device is. Revoked devices are not in
 * the directory: a revoked token falls through to the address it came from.
 *
 * Lookups are Map gets (SHA-256 of the token → device, canonical address → device) and a scan of
 * the site ranges; `identify` never waits. Rebuilt by `refresh()` from the database: after a
 * policy or device change here, and on a timer for changes made by other processes. Logins are
 * applied in feed order by `pollLogins()` (after a batch arrives here, and every few seconds for
 * batches other processes took); a login keeps the person's groups as they were when it arrived.
 */
import { createHash } from 'node:crypto';
import {
  type DhcpLease,
  cidrContains,
  parseCidr,
  parseIpAddress,
  type Cidr,
  type ClientHint,
  type ClientIdentity,
  type LoginFeedRow,
  type IdentifiedBy,
  type IdentityResolver,
  type RequestPerson,
} from '../core/index.ts';
import type { ServiceDeps } from './context.ts';
import type { PolicyService } from './policy-service.ts';

interface SiteRange {
  cidr: Cidr;
  schoolId: string;
  placeId: string;
}

interface DeviceEntry {
  deviceId: string;
  schoolId: string;
  personId: string | null;
  person: RequestPerson | null;
}

interface Directory {
  ranges: SiteRange[];
  fallback: string | null;
  byTokenHash: Map<string, DeviceEntry>;
  byAddress: Map<string, DeviceEntry>;
  /** Active devices by MAC; a MAC registered at two schools is left out (it cannot say which). */
  byMac: Map<string, DeviceEntry>;
}

interface LoginEntry {
  schoolId: string;
  personId: string | null;
  person: RequestPerson | null;
  /** Lower case, for matching the logout. */
  username: string;
  expiresAtMs: number;
}

/** How far back the first poll reads the feed: logins last at most a day. */
const LOGIN_REPLAY_MS = 25 * 3600_000;
const LOGIN_PAGE = 5000;

export interface IdentityDirectory extends IdentityResolver {
  refresh(): Promise<void>;
  /** Applies login-feed rows that arrived since the last poll (any process); returns how many. */
  pollLogins(): Promise<number>;
  /** The DHCP server's current leases (address → MAC), so a registered MAC is recognised at its leased address. */
  setLeases(leases: readonly DhcpLease[]): void;
  /** The school unclaimed addresses belong to, or null before there is a school. */
  defaultSchoolId(): string | null;
}

/** The hex SHA-256 of a device token: what the database keeps instead of the token. */
export const hashDeviceToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** One key per address however it was written (10.0.0.5 and ::ffff:10.0.0.5 are the same client). */
const addressKey = (words: Uint32Array): string => `${words[0]}.${words[1]}.${words[2]}.${words[3]}`;

const personOf = (row: Pick<LoginFeedRow, 'person'>): RequestPerson | null => {
  const p = row.person;
  // Someone who has left keeps no policy of theirs: the device is filtered as a guest's until it is given to someone else.
  if (!p || p.leftAt !== null) return null;
  return Object.freeze({
    kind: p.kind,
    groups: Object.freeze([...p.groupIds]),
    ...(p.yearGroup !== null && { yearGroup: p.yearGroup }),
  });
};

const placeIn = (ranges: readonly SiteRange[], address: Uint32Array, schoolId?: string): SiteRange | null => {
  for (const r of ranges) {
    if ((schoolId === undefined || r.schoolId === schoolId) && cidrContains(r.cidr, address)) return r;
  }
  return null;
};

const EMPTY: Directory = { ranges: [], fallback: null, byTokenHash: new Map(), byAddress: new Map(), byMac: new Map() };

export const createIdentityDirectory = (
  deps: Pick<ServiceDeps, 'store'> & Partial<Pick<ServiceDeps, 'clock'>>,
  policies: Pick<PolicyService, 'schoolPolicy'>,
  options: { defaultSchool?: string | undefined } = {},
): IdentityDirectory => {
  const clock = deps.clock;
  // Login expiry is judged by the same clock that stamped it.
  const now = clock ? () => clock.now().getTime() : Date.now;
  let dir: Directory = EMPTY;
  /** From the login feed: address key → who logged in there last. */
  const logins = new Map<string, LoginEntry>();
  let loginSeq = 0;
  let polling: Promise<number> | null = null;
  /** From the DHCP lease feed: address key → MAC. */
  let leaseMacs = new Map<string, string>();
  // Refreshes may overlap (a device change and the timer): the newest started one wins.
  let started = 0;
  let applied = 0;

  const pickDefault = (schools: { id: string; name: string; urn: string | null; createdAt: string }[]): string | null => {
    const wanted = options.defaultSchool?.trim().toLowerCase();
    if (wanted) {
      const match = schools.find((s) => s.id.toLowerCase() === wanted || s.urn === wanted || s.name.toLowerCase() === wanted);
      if (match) return match.id;
    }
    const sorted = [...schools].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return sorted[0]?.id ?? null;
  };

  const deviceIdentity = (d: Directory, entry: DeviceEntry, address: Uint32Array | null, via: IdentifiedBy): ClientIdentity => ({
    schoolId: entry.schoolId,
    person: entry.person,
    personId: entry.person ? entry.personId : null,
    deviceId: entry.deviceId,
    // On site, rules for the place (the library, the hall) still apply to a known device.
    place: address ? (placeIn(d.ranges, address, entry.schoolId)?.placeId ?? null) : null,
    via,
  });

  const applyLogins = async (): Promise<number> => {
    let applied = 0;
    const nowMs = now();
    for (let page = 0; page < 100; page++) {
      const since = new Date(nowMs - LOGIN_REPLAY_MS).toISOString();
      const rows = await deps.store.logins.feed(loginSeq, since, LOGIN_PAGE);
      for (const row of rows) {
        loginSeq = row.seq;
        const words = parseIpAddress(row.ip);
        if (!words) continue;
        const key = addressKey(words);
        const username = row.username.toLowerCase();
        if (row.kind === 'login') {
          // An unmatched login still means whoever was there before has gone.
          const expiresAtMs = Date.parse(row.expiresAt ?? '') || 0;
          logins.set(key, { schoolId: row.schoolId, personId: row.personId, person: personOf(row), username, expiresAtMs });
        } else {
          const entry = logins.get(key);
          // A late logout of the previous user must not end the next user's login.
          if (
            entry &&
            entry.schoolId === row.schoolId &&
            (entry.username === username || (row.personId !== null && entry.personId === row.personId))
          ) {
            logins.delete(key);
          }
        }
      }
      applied += rows.length;
      if (rows.length < LOGIN_PAGE) break;
    }
    for (const [key, entry] of logins) if (entry.expiresAtMs <= nowMs) logins.delete(key);
    return applied;
  };

  const loginAt = (d: Directory, address: Uint32Array): ClientIdentity | null => {
    const entry = logins.get(addressKey(address));
    if (!entry || entry.expiresAtMs <= now()) return null;
    const site = placeIn(d.ranges, address);
    // An address inside another school's site is that school's: a stray feed cannot claim it.
    if (site && site.schoolId !== entry.schoolId) return null;
    return {
      schoolId: entry.schoolId,
      person: entry.person,
      personId: entry.person ? entry.personId : null,
      deviceId: null,
      place: placeIn(d.ranges, address, entry.schoolId)?.placeId ?? null,
      via: 'login',
    };
  };

  return {
    // One poll at a time: a poll asked for while one runs waits for that one, then runs again.
    async pollLogins() {
      while (polling) await polling.catch(() => undefined);
      polling = applyLogins();
      try {
        return await polling;
      } finally {
        polling = null;
      }
    },
    async refresh() {
      const mine = ++started;
      const schools = await deps.store.tenancy.listSchools('all');
      const ranges: SiteRange[] = [];
      for (const school of schools) {
        const { policy } = await policies.schoolPolicy(school.id);
        for (const place of policy.places ?? []) {
          for (const raw of place.cidrs) {
            const cidr = parseCidr(raw);
            if (cidr) ranges.push({ cidr, schoolId: school.id, placeId: place.id });
          }
        }
      }
      // Most specific first, so a school's /24 inside a trust-wide /16 wins.
      ranges.sort((a, b) => b.cidr.bits - a.cidr.bits);

      const byTokenHash = new Map<string, DeviceEntry>();
      const byMac = new Map<string, DeviceEntry>();
      const sharedMacs = new Set<string>();
      const claims = new Map<string, { address: Uint32Array; entries: DeviceEntry[] }>();
      for (const row of await deps.store.devices.identities()) {
        const entry: DeviceEntry = Object.freeze({
          deviceId: row.id,
          schoolId: row.schoolId,
          personId: row.person?.id ?? null,
          person: personOf(row),
        });
        byTokenHash.set(row.tokenHash, entry);
        if (row.mac !== null) {
          if (byMac.has(row.mac)) sharedMacs.add(row.mac);
          byMac.set(row.mac, entry);
        }
        const address = row.ip === null ? null : parseIpAddress(row.ip);
        if (address) {
          const key = addressKey(address);
          const claim = claims.get(key);
          if (claim) claim.entries.push(entry);
          else claims.set(key, { address, entries: [entry] });
        }
      }
      const byAddress = new Map<string, DeviceEntry>();
      for (const [key, { address, entries }] of claims) {
        if (entries.length === 1) {
          byAddress.set(key, entries[0]!);
          continue;
        }
        // Two schools registered the same (private) address: only the school whose site holds it can mean it.
        const site = placeIn(ranges, address);
        const owner = site ? entries.filter((e) => e.schoolId === site.schoolId) : [];
        if (owner.length === 1) byAddress.set(key, owner[0]!);
      }

      if (mine < applied) return;
      applied = mine;
      for (const mac of sharedMacs) byMac.delete(mac);
      dir = { ranges, fallback: pickDefault(schools), byTokenHash, byAddress, byMac };
    },
    setLeases(leases) {
      const next = new Map<string, string>();
      for (const lease of leases) {
        const address = parseIpAddress(lease.ip);
        if (address) next.set(addressKey(address), lease.mac);
      }
      leaseMacs = next;
    },
    defaultSchoolId: () => dir.fallback,
    identify(client: ClientHint): ClientIdentity | null {
      const d = dir;
      const address = parseIpAddress(client.ip);
      if (client.deviceToken && d.byTokenHash.size > 0) {
        const entry = d.byTokenHash.get(hashDeviceToken(client.deviceToken));
        if (entry) return deviceIdentity(d, entry, address, 'device-token');
      }
      if (address) {
        if (logins.size > 0) {
          const who = loginAt(d, address);
          if (who) return who;
        }
        if (d.byAddress.size > 0) {
          const entry = d.byAddress.get(addressKey(address));
          if (entry) return deviceIdentity(d, entry, address, 'device-ip');
        }
        if (d.byMac.size > 0 && leaseMacs.size > 0) {
          const mac = leaseMacs.get(addressKey(address));
          const entry = mac === undefined ? undefined : d.byMac.get(mac);
          if (entry) return deviceIdentity(d, entry, address, 'device-mac');
        }
        const site = placeIn(d.ranges, address);
        if (site) return { schoolId: site.schoolId, person: null, personId: null, deviceId: null, place: site.placeId, via: 'site' };
      }
      if (d.fallback === null) return null;
      return { schoolId: d.fallback, person: null, personId: null, deviceId: null, place: null, via: 'default' };
    },
  };
};
