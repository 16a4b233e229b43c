/**
 * `haven ca init [--force] [--name NAME]` creates the TLS interception root CA in
 * `HAVEN_DATA_DIR/ca/`; `haven ca export [--der] [--out FILE]` writes its certificate (never the
 * key) for installing on managed devices. See docs/tls-interception.md.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { initCa, readCaCertificate } from '../../dataplane/index.ts';
import { loadConfig } from '../config.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

export const registerCaCommand = (program: Command): void => {
  const ca = program.command('ca').description('the root certificate for TLS interception (optional; see docs/tls-interception.md)');

  ca.command('init')
    .description('create the school’s or trust’s root CA in HAVEN_DATA_DIR/ca (refuses to replace one without --force)')
    .option('--name <name>', 'the school or trust it belongs to (default: HAVEN_TRUST_NAME)')
    .option('--force', 'replace an existing CA: every device must then be given the new certificate')
    .action(async (opts: { name?: string; force?: boolean }) => {
      const config = loadConfig();
      const { ca: created, cert, key } = await initCa(config.dataDir, { name: opts.name ?? config.trustName, force: opts.force ?? false });
      out(`created ${created.commonName}, valid until ${created.notAfter.toISOString().slice(0, 10)}`);
      out(`certificate: ${cert}`);
      out(`key:         ${key} (owner-only; keep it secret and backed up)`);
      out(`SHA-256 fingerprint: ${created.fingerprintSha256}`);
      err('Install the certificate (never the key) on managed devices: haven ca export --out haven-ca.crt');
    });

  ca.command('export')
    .description('write the CA certificate (PEM, or DER with --der) to stdout or a file, for installing on devices')
    .option('--der', 'DER instead of PEM (Windows and Apple tools often want a .cer in DER)')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: { der?: boolean; out?: string }) => {
      const config = loadConfig();
      const certificate = await readCaCertificate(config.dataDir);
      const body = opts.der ? certificate.certDer : certificate.certPem;
      if (opts.out) {
        writeFileSync(opts.out, body, { mode: 0o644 });
        err(`wrote ${certificate.commonName} to ${opts.out} (SHA-256 fingerprint ${certificate.fingerprintSha256})`);
        return;
      }
      if (opts.der && process.stdout.isTTY) throw new Error('DER is binary: use --out FILE (or redirect stdout to a file)');
      process.stdout.write(body);
    });
};
