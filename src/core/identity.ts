/**
 * Who is behind a request: the data plane asks with the client's address (and, over DoH, a
 * device token) and gets back the school whose policy applies, the person if known, and how
 * they were recognised. Answers come from memory: identification is on the hot path.
 */
import type { RequestPerson } from './policy/index.ts';

export const IDENTIFIED_BY = ['device-token', 'device-ip', 'device-mac', 'login', 'site', 'default'] as const;
export type IdentifiedBy = (typeof IDENTIFIED_BY)[number];

export interface ClientIdentity {
  schoolId: string;
  /** null: nobody identified; the school's guest group applies. */
  person: RequestPerson | null;
  personId: string | null;
  deviceId: string | null;
  /** The school's site or network the address belongs to (a policy place id). */
  place: string | null;
  via: IdentifiedBy;
}

export interface ClientHint {
  ip: string;
  /** From `/dns-query/<token>`: a registered device. */
  deviceToken?: string | null;
}

export interface IdentityResolver {
  /** null when no school can be chosen (no schools yet): the data plane refuses the request. */
  identify(client: ClientHint): ClientIdentity | null;
}
