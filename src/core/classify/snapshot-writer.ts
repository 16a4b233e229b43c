/**
 * The snapshot format, version 1 (header integers little-endian; read back by snapshot.ts):
 *
 *   0   8 bytes  magic "HAVENCLS"
 *   8   u32      format version
 *   12  u32      0x01020304 in the writer's byte order (as the arrays are): refuses a foreign one
 *   16  u32 × 2  total length in bytes (low, high)
 *   24  u32      length of the JSON header
 *   28  u32      0 (reserved)
 *   32  32 bytes SHA-256 of everything from byte 64 to the end
 *   64  JSON header (lists, seeds, expressions, warnings, where each array lives), padded to 8
 *   …   the typed arrays, each at an 8-aligned offset, so loading is views, not parsing
 */
import { createHash } from 'node:crypto';
import type { IndexParts } from './domain-index.ts';

export const MAGIC = 'HAVENCLS';
export const VERSION = 1;
export const BYTE_ORDER_MARK = 0x01020304;
export const FIXED_HEADER = 64;

/** Where one typed array sits: byte offset from the start, and its length in elements. */
export interface Section {
  offset: number;
  length: number;
}

export interface SnapshotHeader {
  listNames: string[];
  seedA: number;
  seedB: number;
  valueBits: number;
  domains: { homes: number; count: number; keys: Section };
  labelCounts: number;
  urls: { homes: number; count: number; keys: Section };
  setOffsets: Section;
  setMembers: Section;
  expressions: { list: number; source: string }[];
  warnings: string[];
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

export const encodeSnapshot = (parts: IndexParts): Uint8Array => {
  const arrays = [parts.domains.keys, parts.urls.keys, parts.setOffsets, parts.setMembers];
  // Lay the arrays out after a header whose own length depends on the offsets it records:
  // measure with placeholder offsets, then fix them (JSON numbers only ever grow the length a
  // little, so reserve slack).
  const layout = (start: number): Section[] => {
    let at = start;
    return arrays.map((a) => {
      const section = { offset: at, length: a.length };
      at = align8(at + a.byteLength);
      return section;
    });
  };
  const header = (sections: Section[]): SnapshotHeader => ({
    listNames: [...parts.listNames],
    seedA: parts.seedA,
    seedB: parts.seedB,
    valueBits: parts.valueBits,
    domains: { homes: parts.domains.homes, count: parts.domains.count, keys: sections[0]! },
    labelCounts: parts.labelCounts,
    urls: { homes: parts.urls.homes, count: parts.urls.count, keys: sections[1]! },
    setOffsets: sections[2]!,
    setMembers: sections[3]!,
    expressions: parts.expressions.map((e) => ({ ...e })),
    warnings: [...parts.warnings],
  });
  const draft = new TextEncoder().encode(JSON.stringify(header(layout(0))));
  const dataStart = align8(FIXED_HEADER + draft.length + 256);
  const sections = layout(dataStart);
  const json = new TextEncoder().encode(JSON.stringify(header(sections)));
  if (FIXED_HEADER + json.length > dataStart) throw new Error('snapshot header outgrew its reserved space');
  const last = sections.at(-1)!;
  const total = align8(last.offset + arrays.at(-1)!.byteLength);

  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, VERSION, true);
  new Uint32Array(bytes.buffer, 12, 1)[0] = BYTE_ORDER_MARK; // platform order, like the arrays
  view.setUint32(16, total % 2 ** 32, true);
  view.setUint32(20, Math.floor(total / 2 ** 32), true);
  view.setUint32(24, json.length, true);
  bytes.set(json, FIXED_HEADER);
  arrays.forEach((a, i) => bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), sections[i]!.offset));
  bytes.set(payloadDigest(bytes), 32);
  return bytes;
};

export const payloadDigest = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes.subarray(FIXED_HEADER)).digest();
