import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildClassifier } from './build-classifier.ts';
import { ClassifierSnapshotError, loadClassifierSnapshot } from './snapshot.ts';
import { encodeSnapshot, payloadDigest } from './snapshot-writer.ts';
import type { IndexParts } from './domain-index.ts';
import type { Classifier, SourceList } from './types.ts';

const LISTS: SourceList[] = [
  { name: 'ut1/adult', domains: ['example.com', 'a.example.org', '10.0.0.1'], urls: ['site.org/path'], expressions: ['porn'] },
  { name: 'ut1/gambling', domains: ['example.com', 'bet.test', 'bad host'], urls: ['site.org/path/x'], expressions: ['(bad'] },
];
const PROBES = ['example.com', 'www.example.com', 'a.example.org', 'b.example.org', 'bet.test', '10.0.0.1', '10.0.0.2', 'nothing.test'];
const URLS = ['site.org/path', 'site.org/path/x/y', 'site.org/pathology', 'http://free.test/porn', 'http://bet.test/'];

const answers = (c: Classifier) => [...PROBES.map((h) => c.matchHost(h)), ...URLS.map((u) => c.matchUrl(u))];

describe('classifier snapshots', () => {
  const built = buildClassifier(LISTS);
  const bytes = built.toSnapshot();

  it('load back into a classifier that answers exactly alike', () => {
    const loaded = loadClassifierSnapshot(bytes);
    assert.deepEqual(loaded.listNames, built.listNames);
    assert.equal(loaded.domainCount, built.domainCount);
    assert.deepEqual(loaded.warnings, built.warnings);
    assert.deepEqual(answers(loaded), answers(built));
    assert.deepEqual(loaded.toSnapshot(), bytes);
  });

  it('load from a buffer at any offset (copied when not 8-aligned)', () => {
    for (const offset of [1, 3, 8]) {
      const shifted = new Uint8Array(bytes.length + offset);
      shifted.set(bytes, offset);
      assert.deepEqual(answers(loadClassifierSnapshot(shifted.subarray(offset))), answers(built));
    }
    assert.deepEqual(answers(loadClassifierSnapshot(Buffer.from(bytes))), answers(built));
  });

  it('round-trip an empty classifier', () => {
    const empty = loadClassifierSnapshot(buildClassifier([]).toSnapshot());
    assert.equal(empty.domainCount, 0);
    assert.deepEqual(empty.matchHost('example.com'), []);
  });

  const refuses = (input: Uint8Array, message: RegExp) =>
    assert.throws(
      () => loadClassifierSnapshot(input),
      (err: unknown) => err instanceof ClassifierSnapshotError && err.code === 'CLASSIFIER_SNAPSHOT_INVALID' && message.test(err.message),
    );

  it('refuse truncated snapshots', () => {
    refuses(bytes.subarray(0, 10), /truncated \(10 bytes/);
    refuses(bytes.subarray(0, bytes.length - 1), new RegExp(`truncated \\(${bytes.length - 1} of ${bytes.length} bytes\\)`));
    refuses(bytes.subarray(0, 100), /truncated/);
  });

  it('refuse extra bytes, another format or version', () => {
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    refuses(longer, /8 bytes after the end/);
    const other = bytes.slice();
    other[0] = 0x58;
    refuses(other, /bad magic/);
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint32(8, 99, true);
    refuses(newer, /format version 99, this build reads version 1/);
  });

  it('refuse any corrupted byte of the payload (checksum)', () => {
    for (const at of [64, 70, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const corrupt = bytes.slice();
      corrupt[at]! ^= 0x10;
      refuses(corrupt, /checksum mismatch/);
    }
  });

  it('refuse a well-checksummed file whose header or tables make no sense', () => {
    const garbled = bytes.slice();
    garbled.fill(0x20, 64, 80); // the JSON header no longer parses
    garbled.set(payloadDigest(garbled), 32);
    refuses(garbled, /corrupted header/);

    const table = { keys: Uint32Array.of(1, 2), homes: 1, count: 1 }; // no empty slot to stop a scan
    const parts: IndexParts = {
      listNames: ['a'],
      seedA: 1,
      seedB: 2,
      valueBits: 1,
      domains: table,
      labelCounts: 4,
      urls: table,
      setOffsets: Uint32Array.of(0, 1),
      setMembers: Uint16Array.of(0),
      expressions: [],
      warnings: [],
    };
    refuses(encodeSnapshot(parts), /table layout/);
  });
});
