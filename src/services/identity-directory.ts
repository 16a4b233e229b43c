/**
 * Recognises clients from memory, for the data plane. In order:
 *
 * 1. a device token (DoH at `/dns-query/<token>`): that device's school, person and id;
 * 2. a registered device address: the same;
 * 3. a school's own places (its sites and networks, in its saved policy) — the most specific
 *    range wins — as a guest of that school;
 * 4. the default school (HAVEN_DNS_DEFAULT_SCHOOL, else the only school, else the first one
 *    added) as a guest.
 *
 * A device given to a pupil or member of staff carries that person's kind, year group and group
 * memberships, so their policy group applies wherever the device is. Revoked devices are not in
 * the directory: a revoked token falls through to the address it came from.
 *
 * Lookups are Map gets (SHA-256 of the token → device, canonical address → device) and a scan of
 * the site ranges; `identify` never waits. Rebuilt by `refresh()` from the database: after a
 * policy or device change here, and on a timer for changes made by other processes.
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
  type DeviceIdentityRow,
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

export interface IdentityDirectory extends IdentityResolver {
  refresh(): Promise<void>;
  /** The DHCP server's current leases (address → MAC), so a registered MAC is recognised at its leased address. */
  setLeases(leases: readonly DhcpLease[]): void;
  /** The school unclaimed addresses belong to, or null before there is a school. */
  defaultSchoolId(): string | null;
}

/** The hex SHA-256 of a device token: what the database keeps instead of the token. */
export const hashDeviceToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** One key per address however it was written (10.0.0.5 and ::ffff:10.0.0.5 are the same client). */
const addressKey = (words: Uint32Array): string => `${words[0]}.${words[1]}.${words[2]}.${words[3]}`;

const personOf = (row: DeviceIdentityRow): RequestPerson | null => {
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
  deps: Pick<ServiceDeps, 'store'>,
  policies: Pick<PolicyService, 'schoolPolicy'>,
  options: { defaultSchool?: string | undefined } = {},
): IdentityDirectory => {
  let dir: Directory = EMPTY;
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

  return {
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
