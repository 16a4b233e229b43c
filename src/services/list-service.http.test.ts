/**
 * `importLists` from a URL against a real HTTP server on 127.0.0.1: a good download swaps the new
 * index in; a truncated body, a server that dies mid-transfer, an error page or a body without a
 * length that stops short all leave the old index serving, on disk and in memory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeListsPorts } from '../adapters/index.ts';
import { parseCategoryMap, type Classifier } from '../core/index.ts';
import { tarGz } from '../../test-support/tar-writer.ts';
import { sourcesOf, stubBuildClassifier, stubLoadClassifierSnapshot } from '../../test-support/stub-classifier.ts';
import { importLists, listsPaths, loadImportedClassifier, type ListsServiceDeps } from './list-service.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tarball = readFileSync(path.join(repo, 'test-fixtures', 'lists', 'ut1-blacklists.tar.gz'));
const v2 = tarGz([
  { name: 'blacklists/adult/domains', data: 'adult-site.example\nnew-adult.example\n' },
  { name: 'blacklists/gambling/domains', data: 'bet.example\ncasino.example\nnew-bet.example\n' },
]);
const tmp = mkdtempSync(path.join(tmpdir(), 'haven-lists-http-'));
const deps: ListsServiceDeps = {
  ports: nodeListsPorts(),
  categoryMap: parseCategoryMap(JSON.parse(readFileSync(path.join(repo, 'data', 'category-map.json'), 'utf8'))),
  buildClassifier: stubBuildClassifier,
  loadClassifierSnapshot: stubLoadClassifierSnapshot,
  clock: { now: () => new Date('2026-11-25T09:00:00Z') },
};

let server: Server;
let base = '';
before(async () => {
  server = createServer((req, res) => {
    const sock = req.socket;
    switch (req.url ?? '') {
      case '/blacklists.tar.gz':
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': tarball.length });
        res.end(tarball);
        return;
      case '/v2.tar.gz':
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': v2.length });
        res.end(v2);
        return;
      case '/truncated.tar.gz':
        sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: ${v2.length}\r\n\r\n`);
        sock.end(v2.subarray(0, v2.length - 40));
        return;
      case '/no-length-short.tar.gz':
        // HTTP/1.0 style: no length, the end of the body is the end of the connection.
        sock.write('HTTP/1.0 200 OK\r\nContent-Type: application/gzip\r\nConnection: close\r\n\r\n');
        sock.end(v2.subarray(0, v2.length - 40));
        return;
      case '/dies.tar.gz':
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': v2.length });
        res.write(v2.subarray(0, 100), () => setTimeout(() => sock.destroy(), 20));
        return;
      case '/error-page':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>Maintenance</body></html>');
        return;
      default:
        res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

describe('importLists over HTTP', () => {
  const dataDir = path.join(tmp, 'data');
  /** What the data plane would hold: swapped only when an import succeeds. */
  let serving: Classifier | null = null;
  const tryImport = async (url: string) => {
    const { classifier } = await importLists(deps, { from: `${base}${url}`, dataDir, allowShrink: true });
    serving = classifier;
  };
  const onDisk = () => ({
    snapshot: readFileSync(listsPaths(dataDir).snapshot),
    manifest: readFileSync(listsPaths(dataDir).manifest, 'utf8'),
  });

  it('downloads, unpacks and swaps in a UT1 tarball, with download progress', async () => {
    const seen: number[] = [];
    const { manifest, classifier } = await importLists(deps, {
      from: `${base}/blacklists.tar.gz`,
      dataDir,
      onProgress: (p) => {
        if (p.stage === 'download') seen.push(p.bytes);
      },
    });
    serving = classifier;
    assert.equal(seen.at(-1), tarball.length);
    assert.equal(manifest.source, `${base}/blacklists.tar.gz`);
    assert.equal(sourcesOf(serving, 'adult-site.example'), 'ut1/adult,ut1/sexual_education');
    await tryImport('/v2.tar.gz');
    assert.equal(sourcesOf(serving, 'new-bet.example'), 'ut1/gambling');
  });

  for (const [what, url, message] of [
    ['a body shorter than its Content-Length', '/truncated.tar.gz', /failed \(download\): the download (is incomplete|was cut off)/],
    ['a server that dies mid-transfer', '/dies.tar.gz', /failed \(download\): the download was cut off/],
    ['a short body without a length (caught by gzip)', '/no-length-short.tar.gz', /failed \(unpack\)/],
    ['an HTML page instead of an archive', '/error-page', /failed \(unpack\): not a tar archive/],
    ['a 404', '/missing.tar.gz', /failed \(download\): the server answered HTTP 404/],
  ] as const) {
    it(`keeps the old index serving after ${what}`, async () => {
      const before = onDisk();
      const held = serving;
      await assert.rejects(tryImport(url), message);
      assert.equal(serving, held, 'the in-memory index was not swapped');
      assert.deepEqual(onDisk(), before, 'snapshot and manifest untouched');
      const reloaded = await loadImportedClassifier(deps, dataDir);
      assert.equal(sourcesOf(reloaded!.classifier, 'new-bet.example'), 'ut1/gambling', 'a restart would load the old index too');
      assert.deepEqual(
        readdirSync(listsPaths(dataDir).dir).filter((f) => f.startsWith('.')),
        [],
        'temporary files cleaned up',
      );
    });
  }
});
