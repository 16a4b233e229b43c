/**
 * Loading a snapshot written by `Classifier.toSnapshot()` (format: snapshot-writer.ts). The
 * tables become typed-array views over the given bytes, so 5 million domains load in the time it
 * takes to checksum ~50 MB; the classifier keeps the bytes alive and copies nothing (unless they
 * are not 8-aligned, when one copy is made).
 */
import { CompactClassifier } from './domain-index.ts';
import { EMPTY } from './sorted-table.ts';
import { BYTE_ORDER_MARK, FIXED_HEADER, MAGIC, VERSION, payloadDigest, type Section, type SnapshotHeader } from './snapshot-writer.ts';

export { encodeSnapshot } from './snapshot-writer.ts';

/** A snapshot that is not one, is of another version, or is truncated or corrupted. */
export class ClassifierSnapshotError extends Error {
  readonly code = 'CLASSIFIER_SNAPSHOT_INVALID';
  constructor(message: string) {
    super(`classifier snapshot refused: ${message}`);
    this.name = 'ClassifierSnapshotError';
  }
}

export const loadClassifierSnapshot = (input: Uint8Array): CompactClassifier => {
  if (input.byteLength < FIXED_HEADER)
    throw new ClassifierSnapshotError(`truncated (${input.byteLength} bytes, header alone is ${FIXED_HEADER})`);
  const bytes = input.byteOffset % 8 === 0 ? input : new Uint8Array(input); // copies (Buffer#slice would not)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC)
    throw new ClassifierSnapshotError('not a Haven classifier snapshot (bad magic)');
  const version = view.getUint32(8, true);
  if (version !== VERSION) throw new ClassifierSnapshotError(`format version ${version}, this build reads version ${VERSION}`);
  if (new Uint32Array(bytes.buffer, bytes.byteOffset + 12, 1)[0] !== BYTE_ORDER_MARK) {
    throw new ClassifierSnapshotError('written on a machine of the other byte order');
  }
  const total = view.getUint32(16, true) + view.getUint32(20, true) * 2 ** 32;
  if (bytes.byteLength < total) throw new ClassifierSnapshotError(`truncated (${bytes.byteLength} of ${total} bytes)`);
  if (bytes.byteLength > total) throw new ClassifierSnapshotError(`corrupted (${bytes.byteLength - total} bytes after the end)`);
  const digest = payloadDigest(bytes);
  const stored = bytes.subarray(32, 64);
  if (!digest.every((b, i) => b === stored[i])) throw new ClassifierSnapshotError('corrupted (checksum mismatch)');

  try {
    return fromHeader(bytes, total);
  } catch (err) {
    if (err instanceof ClassifierSnapshotError) throw err;
    throw new ClassifierSnapshotError(`corrupted header (${err instanceof Error ? err.message : String(err)})`);
  }
};

/** Views over the checked bytes, as the JSON header lays them out. */
const fromHeader = (bytes: Uint8Array, total: number): CompactClassifier => {
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(24, true);
  if (FIXED_HEADER + jsonLength > total) throw new ClassifierSnapshotError('corrupted (header length)');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(FIXED_HEADER, FIXED_HEADER + jsonLength))) as SnapshotHeader;

  const section = <T>(s: Section, make: (buffer: ArrayBufferLike, offset: number, length: number) => T, width: number): T => {
    const ok = Number.isSafeInteger(s.offset) && Number.isSafeInteger(s.length) && s.offset % 8 === 0 && s.length >= 0;
    if (!ok || s.offset < FIXED_HEADER || s.offset + s.length * width > total)
      throw new ClassifierSnapshotError('corrupted (section out of bounds)');
    return make(bytes.buffer, bytes.byteOffset + s.offset, s.length);
  };
  const u32 = (s: Section) => section(s, (b, o, l) => new Uint32Array(b, o, l), 4);
  const u16 = (s: Section) => section(s, (b, o, l) => new Uint16Array(b, o, l), 2);

  const table = (t: SnapshotHeader['domains']) => {
    const keys = u32(t.keys);
    // Every lookup scan stops at an empty slot; the tables end with one. Check, so a damaged file
    // cannot make a lookup run off the end.
    if (keys.length < 2 || keys.length % 2 !== 0 || keys[keys.length - 2] !== EMPTY || t.homes < 1 || t.homes * 2 > keys.length) {
      throw new ClassifierSnapshotError('corrupted (table layout)');
    }
    return { keys, homes: t.homes, count: t.count };
  };
  if (!(header.valueBits >= 1 && header.valueBits <= 24)) throw new ClassifierSnapshotError('corrupted (value bits)');

  return new CompactClassifier({
    listNames: header.listNames,
    seedA: header.seedA,
    seedB: header.seedB,
    valueBits: header.valueBits,
    domains: table(header.domains),
    labelCounts: header.labelCounts,
    urls: table(header.urls),
    setOffsets: u32(header.setOffsets),
    setMembers: u16(header.setMembers),
    expressions: header.expressions,
    warnings: header.warnings,
  });
};
