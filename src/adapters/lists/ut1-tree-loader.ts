/**
 * Reads a folder in UT1/squidGuard form: every folder holding a `domains`, `urls` or `expressions`
 * file is one list, named by its path relative to the root ('/'-separated). Files are streamed
 * line by line (UT1's adult list is three 50 MB files), entries normalised, and bad lines counted
 * and reported instead of failing the import. Symbolic links are never followed: UT1 ships its
 * category aliases (porn → adult, ads → publicite …) as symlinks, and reading them would load the
 * same list twice.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { domainToASCII } from 'node:url';
import type { ListFileKind, ListTree, LoadedList, TreeLoadOptions } from '../../core/index.ts';

export const LIST_FILES: readonly ListFileKind[] = ['domains', 'urls', 'expressions'];

/** How many malformed lines are quoted in the warnings (all are counted). */
const MAX_QUOTED = 20;
const MAX_ENTRY_LENGTH = 4096;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** Lenient on purpose: real lists hold labels with '_' and leading hyphens, which resolvers accept. */
const LABEL = /^[a-z0-9_-]{1,63}$/;
/** `0.0.0.0 example.com` and `127.0.0.1 example.com` lines of hosts files. */
const HOSTS_LINE = /^(?:0\.0\.0\.0|127\.0\.0\.1)\s+(\S+)/;

type Normalised = { entry: string } | { problem: string };

/** A domain or IPv4 entry: lower-case, IDN to punycode, no leading "*." or dots at either end. */
const PLAIN_DOMAIN = /^(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}$/;

export const normaliseDomainEntry = (raw: string): Normalised => {
  // Fast path: most lines of a real list are already in normal form.
  if (raw.length <= 253 && PLAIN_DOMAIN.test(raw) && !/^[\d.]+$/.test(raw)) return { entry: raw };
  let d = raw.trim();
  const hosts = HOSTS_LINE.exec(d);
  if (hosts) d = hosts[1]!;
  d = d.toLowerCase();
  if (d.startsWith('*.')) d = d.slice(2);
  d = d.replace(/^\.+|\.+$/g, '');
  if (d === '') return { problem: 'empty entry' };
  if (/\s|\/|:|@/.test(d)) return { problem: 'not a domain (holds a space, "/", ":" or "@")' };
  if (/[^\x00-\x7f]/.test(d)) {
    const ascii = domainToASCII(d);
    if (!ascii) return { problem: 'not a valid international domain name' };
    d = ascii;
  }
  if (IPV4.test(d)) return { entry: d };
  if (/^[\d.]+$/.test(d)) return { problem: 'not a valid IPv4 address' };
  if (d.length > 253) return { problem: 'longer than 253 characters' };
  if (!d.split('.').every((l) => LABEL.test(l))) return { problem: 'not a valid domain name' };
  return { entry: d };
};

/** A `host/path` entry: scheme removed if present, host normalised as a domain, path kept. */
export const normaliseUrlEntry = (raw: string): Normalised => {
  let u = raw.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  if (u === '') return { problem: 'empty entry' };
  if (/\s/.test(u)) return { problem: 'holds a space' };
  if (u.length > MAX_ENTRY_LENGTH) return { problem: `longer than ${MAX_ENTRY_LENGTH} characters` };
  const slash = u.indexOf('/');
  const host = slash === -1 ? u : u.slice(0, slash);
  const rest = slash === -1 ? '' : u.slice(slash);
  const h = normaliseDomainEntry(host.replace(/:\d+$/, ''));
  if ('problem' in h) return { problem: `bad host: ${h.problem}` };
  u = h.entry + rest;
  return { entry: u };
};

/** A squidGuard expression, verbatim, if JavaScript can compile it. */
export const normaliseExpressionEntry = (raw: string): Normalised => {
  const e = raw.trim();
  if (e === '') return { problem: 'empty entry' };
  if (e.length > MAX_ENTRY_LENGTH) return { problem: `longer than ${MAX_ENTRY_LENGTH} characters` };
  try {
    new RegExp(e);
  } catch (err) {
    return { problem: `not a valid regular expression (${err instanceof Error ? err.message : String(err)})` };
  }
  return { entry: e };
};

const NORMALISERS: Record<ListFileKind, (raw: string) => Normalised> = {
  domains: normaliseDomainEntry,
  urls: normaliseUrlEntry,
  expressions: normaliseExpressionEntry,
};

interface FoundList {
  name: string;
  dir: string;
  files: { kind: ListFileKind; file: string; bytes: number }[];
}

const listName = (relDir: string, sourceName: string): string => {
  const parts = relDir === '' ? [] : relDir.split(path.sep);
  if (parts.length === 0) return sourceName;
  if (parts.length === 1) return `${sourceName}/${parts[0]!}`;
  return parts.join('/');
};

const findLists = async (root: string, sourceName: string, warnings: string[]): Promise<FoundList[]> => {
  const found: FoundList[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const files: FoundList['files'] = [];
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isSymbolicLink()) {
        warnings.push(`skipped symbolic link ${path.relative(root, full).split(path.sep).join('/')} (links are not followed)`);
      } else if (e.isDirectory()) {
        await walk(full);
      } else if (e.isFile() && (LIST_FILES as readonly string[]).includes(e.name)) {
        files.push({ kind: e.name as ListFileKind, file: full, bytes: (await stat(full)).size });
      }
    }
    if (files.length) found.push({ name: listName(path.relative(root, dir), sourceName), dir, files });
  };
  await walk(root);
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
};

const unwrap = async (folder: string): Promise<string> => {
  const visible = (await readdir(folder, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  const only = visible[0];
  return visible.length === 1 && only?.isDirectory() ? path.join(folder, only.name) : folder;
};

/** Loads every list under `root` (see the top of this file). */
export const loadUt1Tree = async (folder: string, options: TreeLoadOptions): Promise<ListTree> => {
  const rootStat = await stat(folder);
  if (!rootStat.isDirectory()) throw new Error(`${folder} is not a folder`);
  const root = options.unwrapSingleFolder ? await unwrap(folder) : folder;
  const warnings: string[] = [];
  const found = await findLists(root, options.sourceName, warnings);
  const names = new Set<string>();
  for (const f of found) {
    if (names.has(f.name)) throw new Error(`two folders give the list name "${f.name}"; rename one or use another --source`);
    names.add(f.name);
  }
  const include = options.include ?? (() => true);
  const toRead = found.filter((f) => include(f.name));
  const skipped = found.filter((f) => !include(f.name)).map((f) => f.name);
  const bytesTotal = toRead.reduce((n, f) => n + f.files.reduce((m, x) => m + x.bytes, 0), 0);
  let bytesDone = 0;
  let malformedTotal = 0;
  let quoted = 0;
  const lists: LoadedList[] = [];

  for (const f of toRead) {
    const exclude = options.exclude?.(f.name);
    const list: LoadedList = { name: f.name, domains: [], urls: [], expressions: [], malformed: 0, excluded: 0 };
    const target: Record<ListFileKind, string[]> = {
      domains: list.domains as string[],
      urls: list.urls as string[],
      expressions: list.expressions as string[],
    };
    for (const file of f.files) {
      const normalise = NORMALISERS[file.kind];
      const into = target[file.kind];
      let lineNo = 0;
      const onLine = (rawLine: string) => {
        lineNo++;
        const line = lineNo === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
        const trimmed = line.trim();
        if (trimmed === '' || trimmed.startsWith('#')) return;
        const n = normalise(trimmed);
        if ('problem' in n) {
          list.malformed++;
          malformedTotal++;
          if (quoted < MAX_QUOTED) {
            quoted++;
            warnings.push(`${f.name}/${file.kind}:${lineNo}: ${n.problem}: ${JSON.stringify(trimmed.slice(0, 80))}`);
          }
          return;
        }
        if (exclude?.has(n.entry)) {
          list.excluded++;
          return;
        }
        into.push(n.entry);
      };
      // Chunks split by hand: far faster than readline's per-line async iteration on big lists.
      const decoder = new TextDecoder('utf-8');
      let carry = '';
      let fileBytes = 0;
      for await (const chunk of createReadStream(file.file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
        fileBytes += chunk.length;
        const text = carry + decoder.decode(chunk, { stream: true });
        const lines = text.split('\n');
        carry = lines.pop() ?? '';
        for (const l of lines) onLine(l.endsWith('\r') ? l.slice(0, -1) : l);
        options.onProgress?.({ list: f.name, file: file.kind, bytesDone: bytesDone + fileBytes, bytesTotal, entries: into.length });
      }
      carry += decoder.decode();
      if (carry !== '') onLine(carry.endsWith('\r') ? carry.slice(0, -1) : carry);
      bytesDone += file.bytes;
      options.onProgress?.({ list: f.name, file: file.kind, bytesDone, bytesTotal, entries: into.length });
    }
    lists.push(list);
  }
  if (malformedTotal > quoted) warnings.push(`${malformedTotal - quoted} more malformed lines not quoted`);
  return { root, lists, skipped, malformed: malformedTotal, warnings };
};
