/**
 * @module dataplane/dns/wire — the DNS wire format on the hot path, by hand over Buffers.
 *
 * - `parseQuery(buf)`: header, the one question and OPT of a query, or the answer a bad packet
 *   deserves (FORMERR, NOTIMP, REFUSED, BADVERS) or 'drop'; `rejectionResponse` builds that answer.
 * - `cacheKey(query)`: lower-cased wire name + QTYPE + QCLASS + DO + CD.
 * - Answers Haven makes: `blockedResponse`, `nxdomainResponse`, `servfailResponse`,
 *   `refusedResponse`, `formerrResponse`, `notimpResponse`, `badversResponse`, `cnameResponse`
 *   and `mergeCnameAnswer` (SafeSearch), with Extended DNS Errors (RFC 8914) when EDNS is on;
 *   `upstreamQuery` for forwarding.
 * - Cached upstream answers as bytes: `responseInfo` checks one and reads what caching and
 *   filtering need; `withEdnsRemoved` is what the cache keeps; `patchResponse` serves a hit (ID,
 *   aged TTLs, question case, OPT); `truncateForUdp` sets TC when it does not fit.
 *
 * Nothing here throws on packet bytes; builders throw RangeError only for bad configuration
 * (a block-page address or SafeSearch target that is not one).
 */
export * from './constants.ts';
export { parseQuery, cacheKey } from './parse-query.ts';
export type { ParsedQuery, QueryEdns, QueryFlags, QueryParse, QueryRejection, RejectReason, RejectReply } from './parse-query.ts';
export {
  blockedResponse,
  nxdomainResponse,
  servfailResponse,
  refusedResponse,
  formerrResponse,
  notimpResponse,
  badversResponse,
  rejectionResponse,
  cnameResponse,
  mergeCnameAnswer,
  upstreamQuery,
  type BlockOptions,
} from './build-response.ts';
export { responseInfo, effectiveTtl } from './response-info.ts';
export type { AnswerRecord, ResponseInfo, ResponseMalformed, ResponseQuestion } from './response-info.ts';
export { patchResponse, truncateForUdp, withEdnsRemoved, type PatchOptions } from './patch-response.ts';
export { encodeName } from './names.ts';
export { parseIpv4, parseIpv6, formatIpv4, formatIpv6 } from './ip-text.ts';
