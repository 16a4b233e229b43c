/**
 * Reads the server name (SNI) from the first bytes a client sends inside a CONNECT tunnel: the
 * TLS ClientHello, possibly spread over several handshake records. Bounded: it never looks at
 * more than `MAX_HELLO_BYTES`, and never throws on garbage.
 */

/** Enough for any real ClientHello (post-quantum key shares included, ~2 KiB) with room to spare. */
export const MAX_HELLO_BYTES = 16 * 1024;

export type ClientHelloResult =
  /** Wait for more bytes (the hello is not complete yet). */
  | { kind: 'incomplete' }
  /** A ClientHello naming a server. */
  | { kind: 'sni'; host: string }
  /** A ClientHello with no (usable) server name. */
  | { kind: 'no-sni' }
  /** Not TLS at all (or not a ClientHello): the tunnel carries something else. */
  | { kind: 'not-tls' }
  /** Looked like TLS, but broken or larger than the bound. */
  | { kind: 'invalid' };

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const HOST_NAME = 0x00;

/** A DNS name as it may appear in SNI: LDH labels (and `_`), no trailing dot, at most 253 characters. */
const SNI_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Joins the payloads of the leading handshake records; null when the records are broken. */
const handshakeBytes = (buf: Buffer): { bytes: Buffer; complete: boolean } | null => {
  const parts: Buffer[] = [];
  let p = 0;
  let total = 0;
  while (p < buf.length) {
    if (buf.length - p < 5) return { bytes: Buffer.concat(parts, total), complete: false };
    if (buf[p] !== HANDSHAKE || buf[p + 1] !== 0x03)
      return parts.length > 0 ? { bytes: Buffer.concat(parts, total), complete: true } : null;
    const len = buf.readUInt16BE(p + 3);
    if (len === 0 || len > 16384 + 2048) return null;
    const end = p + 5 + Math.min(len, buf.length - p - 5);
    parts.push(buf.subarray(p + 5, end));
    total += end - p - 5;
    if (end - p - 5 < len) return { bytes: Buffer.concat(parts, total), complete: false };
    p = end;
  }
  return { bytes: Buffer.concat(parts, total), complete: false };
};

/** The first host_name in a server_name extension body, or null. */
const serverName = (ext: Buffer): string | null => {
  if (ext.length < 2) return null;
  const listLen = ext.readUInt16BE(0);
  let p = 2;
  const end = Math.min(ext.length, 2 + listLen);
  while (p + 3 <= end) {
    const type = ext[p]!;
    const len = ext.readUInt16BE(p + 1);
    p += 3;
    if (p + len > end) return null;
    if (type === HOST_NAME) {
      const name = ext
        .toString('latin1', p, p + len)
        .toLowerCase()
        .replace(/\.$/, '');
      return SNI_NAME.test(name) ? name : null;
    }
    p += len;
  }
  return null;
};

/** What the bytes received so far say about the server name. */
export const parseClientHello = (buf: Buffer): ClientHelloResult => {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] !== HANDSHAKE) return { kind: 'not-tls' };
  if (buf.length >= 2 && buf[1] !== 0x03) return { kind: 'not-tls' };
  const hs = handshakeBytes(buf);
  if (hs === null) return { kind: 'invalid' };
  const b = hs.bytes;
  if (b.length < 4) return hs.complete ? { kind: 'invalid' } : { kind: 'incomplete' };
  if (b[0] !== CLIENT_HELLO) return { kind: 'not-tls' };
  const bodyLen = (b[1]! << 16) | (b[2]! << 8) | b[3]!;
  if (bodyLen > MAX_HELLO_BYTES) return { kind: 'invalid' };
  if (b.length < 4 + bodyLen) return hs.complete ? { kind: 'invalid' } : { kind: 'incomplete' };
  const body = b.subarray(4, 4 + bodyLen);
  // client_version(2) random(32) session_id<1> cipher_suites<2> compression_methods<1> extensions<2>
  let p = 2 + 32;
  if (p + 1 > body.length) return { kind: 'invalid' };
  p += 1 + body[p]!;
  if (p + 2 > body.length) return { kind: 'invalid' };
  p += 2 + body.readUInt16BE(p);
  if (p + 1 > body.length) return { kind: 'invalid' };
  p += 1 + body[p]!;
  if (p === body.length) return { kind: 'no-sni' }; // no extensions at all
  if (p + 2 > body.length) return { kind: 'invalid' };
  const extEnd = p + 2 + body.readUInt16BE(p);
  if (extEnd > body.length) return { kind: 'invalid' };
  p += 2;
  while (p + 4 <= extEnd) {
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    p += 4;
    if (p + len > extEnd) return { kind: 'invalid' };
    if (type === EXT_SERVER_NAME) {
      const host = serverName(body.subarray(p, p + len));
      return host === null ? { kind: 'no-sni' } : { kind: 'sni', host };
    }
    p += len;
  }
  return { kind: 'no-sni' };
};
