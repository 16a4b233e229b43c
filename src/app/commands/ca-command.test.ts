import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { havenCli } from '../../../test-support/processes.ts';

/** `haven …` that may fail: status, stdout and stderr. */
const havenMayFail = (args: string[], dataDir: string) =>
  spawnSync(process.execPath, [path.resolve('bin/haven.mjs'), ...args], {
    env: { ...process.env, HAVEN_DATA_DIR: dataDir, HAVEN_DATABASE_URL: '' },
    encoding: 'utf8',
    timeout: 120_000,
  });

describe('haven ca', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-ca-cli-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('init creates the CA named for the trust, key owner-only, and prints the fingerprint', () => {
    const stdout = havenCli(['ca', 'init', '--name', 'Oakfield Learning Trust'], dataDir);
    assert.match(stdout, /^created Haven Oakfield Learning Trust Root CA, valid until \d{4}-\d\d-\d\d$/m);
    assert.match(stdout, /SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    assert.equal(statSync(path.join(dataDir, 'ca', 'ca.key')).mode & 0o777, 0o600);
    const cert = new X509Certificate(readFileSync(path.join(dataDir, 'ca', 'ca.crt')));
    assert.ok(cert.ca);
    assert.match(cert.subject, /CN=Haven Oakfield Learning Trust Root CA/);
  });

  it('init refuses to replace the CA without --force, and replaces it with', () => {
    const before = readFileSync(path.join(dataDir, 'ca', 'ca.crt'), 'utf8');
    const refused = havenMayFail(['ca', 'init'], dataDir);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /already exists .* --force/);
    assert.equal(readFileSync(path.join(dataDir, 'ca', 'ca.crt'), 'utf8'), before);
    havenCli(['ca', 'init', '--force', '--name', 'St Anne’s School'], dataDir);
    assert.notEqual(readFileSync(path.join(dataDir, 'ca', 'ca.crt'), 'utf8'), before);
  });

  it('export writes the certificate as PEM to stdout, or DER to a file, and never the key', () => {
    const pem = havenCli(['ca', 'export'], dataDir);
    assert.equal(pem, readFileSync(path.join(dataDir, 'ca', 'ca.crt'), 'utf8'));
    assert.doesNotMatch(pem, /PRIVATE KEY/);
    const file = path.join(dataDir, 'haven-ca.cer');
    havenCli(['ca', 'export', '--der', '--out', file], dataDir);
    const der = readFileSync(file);
    assert.equal(der[0], 0x30);
    assert.equal(new X509Certificate(der).fingerprint256, new X509Certificate(pem).fingerprint256);
    assert.match(new X509Certificate(der).subject, /St Anne’s School/);
  });

  it('export says how to create a CA when there is none', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'haven-ca-cli-'));
    try {
      const r = havenMayFail(['ca', 'export'], empty);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /No interception CA .*haven ca init/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
