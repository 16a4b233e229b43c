/**
 * Recognises clients from memory, for the data plane. A school's own places (its sites and
 * networks, in its saved policy) say which school an address belongs to — the most specific
 * range wins; an address no school claims goes to the default school (HAVEN_DNS_DEFAULT_SCHOOL,
 * else the only school, else the first one added) as a guest. Rebuilt by `refresh()` from the
 * database: after a policy change here, and on a timer for changes made by other processes.
 *
 * Devices (tokens, registered addresses, DHCP leases) and logins will join this directory.
 */
import {
  cidrContains,
  parseCidr,
  parseIpAddress,
  type Cidr,
  type ClientHint,
  type ClientIdentity,
  type IdentityResolver,
} from '../core/index.ts';
import type { ServiceDeps } from './context.ts';
import type { PolicyService } from './policy-service.ts';

interface SiteRange {
  cidr: Cidr;
  schoolId: string;
  placeId: string;
}

export interface IdentityDirectory extends IdentityResolver {
  refresh(): Promise<void>;
  /** The school unclaimed addresses belong to, or null before there is a school. */
  defaultSchoolId(): string | null;
}

export const createIdentityDirectory = (
  deps: Pick<ServiceDeps, 'store'>,
  policies: Pick<PolicyService, 'schoolPolicy'>,
  options: { defaultSchool?: string | undefined } = {},
): IdentityDirectory => {
  let ranges: SiteRange[] = [];
  let fallback: string | null = null;

  const pickDefault = (schools: { id: string; name: string; urn: string | null; createdAt: string }[]): string | null => {
    const wanted = options.defaultSchool?.trim().toLowerCase();
    if (wanted) {
      const match = schools.find((s) => s.id.toLowerCase() === wanted || s.urn === wanted || s.name.toLowerCase() === wanted);
      if (match) return match.id;
    }
    const sorted = [...schools].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return sorted[0]?.id ?? null;
  };

  return {
    async refresh() {
      const schools = await deps.store.tenancy.listSchools('all');
      const next: SiteRange[] = [];
      for (const school of schools) {
        const { policy } = await policies.schoolPolicy(school.id);
        for (const place of policy.places ?? []) {
          for (const raw of place.cidrs) {
            const cidr = parseCidr(raw);
            if (cidr) next.push({ cidr, schoolId: school.id, placeId: place.id });
          }
        }
      }
      // Most specific first, so a school's /24 inside a trust-wide /16 wins.
      next.sort((a, b) => b.cidr.bits - a.cidr.bits);
      ranges = next;
      fallback = pickDefault(schools);
    },
    defaultSchoolId: () => fallback,
    identify(client: ClientHint): ClientIdentity | null {
      const address = parseIpAddress(client.ip);
      if (address) {
        for (const r of ranges) {
          if (cidrContains(r.cidr, address)) {
            return { schoolId: r.schoolId, person: null, personId: null, deviceId: null, place: r.placeId, via: 'site' };
          }
        }
      }
      if (fallback === null) return null;
      return { schoolId: fallback, person: null, personId: null, deviceId: null, place: null, via: 'default' };
    },
  };
};
