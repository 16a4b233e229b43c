/**
 * Reads an illegal-content list file (IWF or CTIRU) line by line. Tolerant of what suppliers
 * send: a UTF-8 BOM, CRLF, blank lines and `#` comments, a tab-separated or quoted first column,
 * and per line either a URL/host (normalised as in core/illegal-tier.ts) or a hex digest of the
 * normalised URL — 64 hex digits SHA-256, 32 MD5, optionally written "sha256:…" / "md5:…".
 * Warnings name line numbers only: these entries must never be echoed to logs or screens.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { illegalUrlKey, normaliseIllegalUrl, type IllegalListLoad, type IllegalSource } from '../../core/index.ts';

const MAX_QUOTED = 20;

export type IllegalLine = { kind: 'plain' | 'sha256' | 'md5'; value: string } | { kind: 'skip' } | { kind: 'malformed'; problem: string };

export const parseIllegalLine = (raw: string): IllegalLine => {
  let line = raw.replace(/^\uFEFF/, '').trim();
  if (line === '' || line.startsWith('#')) return { kind: 'skip' };
  if (line.includes('\t')) line = line.split('\t')[0]!.trim();
  if (line.length >= 2 && line.startsWith('"') && line.indexOf('"', 1) > 0) line = line.slice(1, line.indexOf('"', 1)).trim();
  const tagged = /^(sha256|md5):([0-9a-f]+)$/i.exec(line);
  const hex = tagged ? tagged[2]! : /^[0-9a-f]+$/i.test(line) ? line : null;
  if (hex !== null) {
    if (hex.length === 64 && (!tagged || tagged[1]!.toLowerCase() === 'sha256')) return { kind: 'sha256', value: hex.toLowerCase() };
    if (hex.length === 32 && (!tagged || tagged[1]!.toLowerCase() === 'md5')) return { kind: 'md5', value: hex.toLowerCase() };
    if (tagged || hex.length >= 16)
      return { kind: 'malformed', problem: `a ${hex.length}-digit hex digest is neither SHA-256 (64) nor MD5 (32)` };
  }
  const url = normaliseIllegalUrl(line);
  if (!url) return { kind: 'malformed', problem: 'not a URL, host or digest' };
  return { kind: 'plain', value: illegalUrlKey(url) };
};

export const readIllegalListFile = async (file: string, source: Exclude<IllegalSource, 'canary'>): Promise<IllegalListLoad> => {
  const plain = new Set<string>();
  const sha256 = new Set<string>();
  const md5 = new Set<string>();
  const warnings: string[] = [];
  let lines = 0;
  let malformed = 0;
  const input = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const raw of input) {
    lines++;
    const parsed = parseIllegalLine(raw);
    switch (parsed.kind) {
      case 'skip':
        break;
      case 'malformed':
        malformed++;
        if (malformed <= MAX_QUOTED) warnings.push(`${source} line ${lines}: ${parsed.problem}`);
        break;
      case 'plain':
        plain.add(parsed.value);
        break;
      case 'sha256':
        sha256.add(parsed.value);
        break;
      case 'md5':
        md5.add(parsed.value);
        break;
    }
  }
  if (malformed > MAX_QUOTED) warnings.push(`${source}: ${malformed - MAX_QUOTED} more malformed lines`);
  return { entries: { source, plain: [...plain], sha256: [...sha256], md5: [...md5] }, lines, malformed, warnings };
};
