/**
 * @module dataplane — the DNS filter and the forward proxy (node:dgram/net/http directly, no
 * framework on the hot path). Not built yet: `haven serve --role dns|proxy` says so.
 */
export {};
