/**
 * The OPT record Haven puts in its answers (RFC 6891): root owner, UDP size 1232, version 0, the
 * client's DO bit echoed (RFC 3225), and at most one option, an Extended DNS Error (RFC 8914 §2):
 *
 *   OPTION-CODE 15 | OPTION-LENGTH (2 + text bytes) | INFO-CODE (16 bits) | EXTRA-TEXT (UTF-8, no NUL)
 */
import { EDE_TEXT_MAX, EDNS_UDP_SIZE, EdnsOption, RRType, type Ede } from './constants.ts';

/** Fixed part of an OPT record: owner (1), type, class, TTL, RDLENGTH. */
export const OPT_FIXED = 11;

const textCache = new Map<string, Buffer>();

/** EXTRA-TEXT bytes, cut to EDE_TEXT_MAX on a UTF-8 character boundary; the few distinct texts are kept. */
export const edeText = (text: string): Buffer => {
  let bytes = textCache.get(text);
  if (bytes) return bytes;
  bytes = Buffer.from(text, 'utf8');
  if (bytes.length > EDE_TEXT_MAX) {
    let cut = EDE_TEXT_MAX;
    while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
    bytes = bytes.subarray(0, cut);
  }
  if (textCache.size >= 1024) textCache.clear();
  textCache.set(text, bytes);
  return bytes;
};

export const optLength = (ede: Ede | undefined): number => OPT_FIXED + (ede ? 6 + edeText(ede.text).length : 0);

/**
 * Writes the OPT record at `at` and returns the offset past it. `extendedRcode` is the upper 8
 * bits of a 12-bit RCODE (1 for BADVERS).
 */
export const writeOpt = (out: Buffer, at: number, dnssecOk: boolean, ede: Ede | undefined, extendedRcode = 0): number => {
  out[at] = 0;
  out.writeUInt16BE(RRType.OPT, at + 1);
  out.writeUInt16BE(EDNS_UDP_SIZE, at + 3);
  out[at + 5] = extendedRcode;
  out[at + 6] = 0; // version
  out[at + 7] = dnssecOk ? 0x80 : 0;
  out[at + 8] = 0;
  if (!ede) {
    out.writeUInt16BE(0, at + 9);
    return at + OPT_FIXED;
  }
  const text = edeText(ede.text);
  out.writeUInt16BE(6 + text.length, at + 9);
  out.writeUInt16BE(EdnsOption.EXTENDED_ERROR, at + 11);
  out.writeUInt16BE(2 + text.length, at + 13);
  out.writeUInt16BE(ede.code & 0xffff, at + 15);
  text.copy(out, at + 17);
  return at + 17 + text.length;
};
