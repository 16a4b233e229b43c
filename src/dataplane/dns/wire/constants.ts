/**
 * Numbers of the DNS wire format that the hot path names (RFC 1035, 6891, 8914, 9460). Only the
 * ones Haven reads or writes; everything else passes through as bytes.
 */

export const HEADER_SIZE = 12;
/** Longest name on the wire, length bytes and the root label included (RFC 1035 §2.3.4). */
export const MAX_NAME_WIRE = 255;
export const MAX_LABEL = 63;
/** The EDNS UDP payload size Haven advertises: the DNS Flag Day 2020 value, below common path MTUs. */
export const EDNS_UDP_SIZE = 1232;
/** A client without EDNS gets at most this much over UDP (RFC 1035 §4.2.1). */
export const CLASSIC_UDP_SIZE = 512;

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  SVCB: 64,
  HTTPS: 65,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const CLASS_IN = 1;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended (12-bit, RFC 6891): the upper 8 bits travel in the OPT record. */
  BADVERS: 16,
} as const;

export const OPCODE_QUERY = 0;

/** EDNS(0) option codes. */
export const EdnsOption = {
  CLIENT_SUBNET: 8,
  COOKIE: 10,
  EXTENDED_ERROR: 15,
} as const;

/** SvcParamKey of an Encrypted Client Hello config list in SVCB/HTTPS records (RFC 9460 §14.3.2). */
export const SVC_PARAM_ECH = 5;

/** Extended DNS Error INFO-CODEs (RFC 8914 §4) that Haven uses. */
export const EdeCode = {
  OTHER: 0,
  STALE_ANSWER: 3,
  FORGED_ANSWER: 4,
  BLOCKED: 15,
  CENSORED: 16,
  FILTERED: 17,
  PROHIBITED: 18,
  NOT_READY: 14,
  NO_REACHABLE_AUTHORITY: 22,
  NETWORK_ERROR: 23,
} as const;

/** An Extended DNS Error to attach to a response (sent only when the query had EDNS). */
export interface Ede {
  /** INFO-CODE, 0–65535 (see EdeCode). */
  readonly code: number;
  /** EXTRA-TEXT, UTF-8; cut to EDE_TEXT_MAX bytes on a character boundary. */
  readonly text: string;
}

/** EXTRA-TEXT is cut to this many bytes so a blocked answer stays well inside 512 bytes. */
export const EDE_TEXT_MAX = 200;
