/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and sums self time per function and per source
 * file, over the samples taken inside a time window (the load run), for the DNS benchmark's
 * --profile mode. The profile's clock is the process's monotonic clock, which is also what
 * process.hrtime reads, so the benchmark's own timestamps select the window.
 *
 * tsx runs the TypeScript sources as esbuild output with the whitespace minified: every function
 * is on line 1. The same transform, done again here with esbuild's source map, gives back the
 * source line (and a name for anonymous arrow functions).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { transformSync } from 'esbuild';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  /** Function (file:line), or a V8 pseudo-frame such as (garbage collector). */
  name: string;
  /** Share of the busy (non-idle) samples in the window, in per cent. */
  selfPercent: number;
}

export interface ProfileSummary {
  file: string;
  samplesInWindow: number;
  /** Share of the window the process was not idle, in per cent. */
  busyPercent: number;
  /** Self time: samples in the function itself. */
  topFunctions: HotSpot[];
  topFiles: HotSpot[];
  /** Total time: samples with the function anywhere on the stack (selfPercent holds the total here). */
  topInclusive: HotSpot[];
}

const REPO = path.resolve(import.meta.dirname, '..');

const toPath = (url: string): string => (url.startsWith('file://') ? new URL(url).pathname : url);

const shortUrl = (url: string): string => {
  if (!url) return '';
  const p = toPath(url);
  if (p.startsWith(REPO + path.sep)) return p.slice(REPO.length + 1);
  const nm = p.lastIndexOf('node_modules/');
  return nm >= 0 ? p.slice(nm) : p;
};

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const vlq = (segment: string): number[] => {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = B64.indexOf(ch);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
};

/** Per TypeScript file: generated column on line 1 → source line (0-based), as tsx transforms it. */
const lineMaps = new Map<string, { columns: number[]; lines: number[]; source: string[] } | null>();
const lineMapFor = (file: string) => {
  if (lineMaps.has(file)) return lineMaps.get(file)!;
  let entry: { columns: number[]; lines: number[]; source: string[] } | null = null;
  try {
    const text = readFileSync(file, 'utf8');
    // tsx's options: target this node, source map, whitespace minified, names kept.
    const r = transformSync(text, {
      loader: 'ts',
      format: 'esm',
      target: `node${process.versions.node}`,
      sourcemap: 'external',
      minifyWhitespace: true,
      keepNames: true,
      sourcefile: file,
    });
    const mappings = (JSON.parse(r.map) as { mappings: string }).mappings.split(';')[0] ?? '';
    const columns: number[] = [];
    const lines: number[] = [];
    let gen = 0;
    let line = 0;
    for (const seg of mappings.split(',')) {
      if (!seg) continue;
      const d = vlq(seg);
      gen += d[0]!;
      if (d.length >= 4) {
        line += d[2]!;
        columns.push(gen);
        lines.push(line);
      }
    }
    entry = { columns, lines, source: text.split('\n') };
  } catch {
    entry = null;
  }
  lineMaps.set(file, entry);
  return entry;
};

/** "name file:line" for a frame, with TypeScript lines mapped back and arrow functions named after their binding. */
const describeFrame = (frame: ProfileNode['callFrame']): string => {
  const where = shortUrl(frame.url);
  if (!where) return frame.functionName || '(anonymous)';
  let name = frame.functionName;
  let line = frame.lineNumber;
  const file = toPath(frame.url);
  if (line === 0 && file.endsWith('.ts') && existsSync(file)) {
    const map = lineMapFor(file);
    if (map && map.columns.length > 0) {
      let lo = 0;
      let hi = map.columns.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (map.columns[mid]! <= frame.columnNumber) lo = mid;
        else hi = mid - 1;
      }
      line = map.lines[lo]!;
      if (!name) {
        const text = map.source[line] ?? '';
        name = /(?:const|let|var)\s+([\w$]+)\s*=/.exec(text)?.[1] ?? /^\s*(?:async\s+)?([\w$]+)\s*[(:]/.exec(text)?.[1] ?? '';
      }
    }
  }
  return `${name || '(anonymous)'} ${where}:${line + 1}`;
};

/**
 * The main thread's .cpuprofile in `dir` (node names them CPU.<date>.<time>.<pid>.<thread>.<seq>;
 * thread 0 is the main thread, others are workers), or the newest one.
 */
export const mainThreadProfile = (dir: string): string | null => {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const main = files.find((f) => f.split('.').at(-3) === '0');
  const pick = main ?? files.at(-1);
  return pick ? path.join(dir, pick) : null;
};

/**
 * Self time by function and by file over the samples between `fromUs` and `toUs` (microseconds
 * of the monotonic clock); the whole profile when the window holds almost none of it.
 */
export const summariseProfile = (file: string, window: { fromUs: number; toUs: number } | null, top = 20): ProfileSummary => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<number, number>();
  let t = profile.startTime;
  let inWindow = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    inWindow++;
    const id = profile.samples[i]!;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  if (window && inWindow < profile.samples.length * 0.05) return summariseProfile(file, null, top);

  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const names = new Map<number, string>();
  const nameOf = (id: number) => {
    let name = names.get(id);
    if (name === undefined) {
      name = describeFrame(byId.get(id)!.callFrame);
      names.set(id, name);
    }
    return name;
  };
  const fnTotals = new Map<string, number>();
  const fileTotals = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  for (const [id, n] of counts) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    busy += n;
    const where = shortUrl(frame.url);
    const fn = nameOf(id);
    fnTotals.set(fn, (fnTotals.get(fn) ?? 0) + n);
    const fileKey = where || frame.functionName;
    fileTotals.set(fileKey, (fileTotals.get(fileKey) ?? 0) + n);
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (f.functionName === '(root)') break;
      onStack.add(nameOf(at));
    }
    for (const name of onStack) inclusive.set(name, (inclusive.get(name) ?? 0) + n);
  }
  const rank = (m: Map<string, number>): HotSpot[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, n]) => ({ name, selfPercent: Math.round((1000 * n) / Math.max(1, busy)) / 10 }));
  return {
    file,
    samplesInWindow: inWindow,
    busyPercent: Math.round((1000 * busy) / Math.max(1, inWindow)) / 10,
    topFunctions: rank(fnTotals),
    topFiles: rank(fileTotals),
    topInclusive: rank(inclusive),
  };
};
