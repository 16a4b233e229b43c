/**
 * Classification index benchmark: `npm run bench:classify -- [--lists DIR] [--quick] [--runs N]`.
 *
 * Builds the index from DIR (default: the shared lists beside the repository, if present) and
 * from a synthetic 5-million-domain set (500,000 with --quick), each stage in a fresh process
 * (bench/classify-stage.ts) so the memory figures are clean. Prints human lines, then as its
 * last line one JSON object:
 *
 *   domains, loadSeconds (read lists + build), snapshotLoadSeconds (read file + checksum + views),
 *   bytesPerDomain (RSS growth of a process loading the snapshot, over distinct domains/IPs),
 *   lookupsPerSecond (one thread, per CPU-second, over 1M pre-generated hosts — a third listed,
 *   a third subdomains of listed, a third unlisted — each as likely, so nearly every lookup
 *   misses the CPU caches: the worst case), baselineLookupsPerSecond and baselineBytesPerDomain
 *   (a Set<string> of the same domains, strings included, suffix walk over the same hosts),
 *   plus lookupsPerWallSecond, zipfLookupsPerSecond (the same hosts with Zipf(1) popularity, as
 *   real traffic repeats names), readSeconds, buildSeconds, builtBytesPerDomain (RSS after
 *   building with the input dropped: V8 keeps heap pages, so this overstates the index),
 *   buildPeakRssMB, snapshotBytes and snapshotMatchesBuild;
 *   synthetic5M: { the same keys } for the synthetic set (named syntheticQuick with --quick).
 *
 * Without lists the top-level keys repeat the synthetic figures and `lists` is null.
 *
 * Lookup rates are memory-latency bound, so they swing with whatever else the machine runs. With
 * --runs N (default 1) the serve stage runs N times and the figures are those of the run with the
 * median lookupsPerSecond; every run's rate is printed, and `serveRuns` lists them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sharedListsDir } from './load-lists.ts';

const { values } = parseArgs({
  options: { lists: { type: 'string' }, quick: { type: 'boolean', default: false }, runs: { type: 'string', default: '1' } },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 9) throw new Error(`--runs takes 1 to 9, not ${values.runs}`);
const listsDir = values.lists ?? sharedListsDir();
const syntheticCount = values.quick ? 500_000 : 5_000_000;
const stageScript = path.join(import.meta.dirname, 'classify-stage.ts');

const stage = (name: string, args: string[]): Record<string, unknown> => {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', stageScript, name, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`stage ${name} failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
};

const measure = (title: string, sourceArgs: string[]) => {
  console.log(title);
  const out = mkdtempSync(path.join(tmpdir(), 'haven-bench-classify-'));
  try {
    const built = stage('build', [...sourceArgs, '--out', out]);
    const servings = Array.from({ length: runs }, () => stage('serve', ['--out', out]));
    const byRate = [...servings].sort((x, y) => Number(x.lookupsPerSecond) - Number(y.lookupsPerSecond));
    const served = byRate[Math.floor((runs - 1) / 2)]!;
    if (runs > 1) console.log(`  serve runs (lookups/s): ${servings.map((r) => r.lookupsPerSecond).join(', ')}; median kept`);
    const base = stage('baseline', [...sourceArgs, '--out', out]);
    const snapshotMatchesBuild = servings.every((r) => r.digest === built.digest);
    if (!snapshotMatchesBuild) console.log('  WARNING: the loaded snapshot answered differently from the built index');
    const without = (r: Record<string, unknown>, ...keys: string[]) =>
      Object.fromEntries(Object.entries(r).filter(([k]) => !keys.includes(k)));
    const serveRuns = runs > 1 ? { serveRuns: servings.map((r) => r.lookupsPerSecond) } : {};
    return { ...without(built, 'digest'), ...without(served, 'digest', 'domains'), ...base, snapshotMatchesBuild, ...serveRuns };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
};

const started = process.hrtime.bigint();
const real = listsDir ? measure(`lists from ${listsDir}`, ['--lists', listsDir]) : null;
const synthetic = measure(`synthetic ${syntheticCount.toLocaleString('en-GB')} domains`, ['--synthetic', String(syntheticCount)]);
const pick = (r: Record<string, unknown>) => {
  const {
    domains,
    loadSeconds,
    snapshotLoadSeconds,
    bytesPerDomain,
    lookupsPerSecond,
    baselineLookupsPerSecond,
    baselineBytesPerDomain,
    ...rest
  } = r;
  return {
    domains,
    loadSeconds,
    snapshotLoadSeconds,
    bytesPerDomain,
    lookupsPerSecond,
    baselineLookupsPerSecond,
    baselineBytesPerDomain,
    ...rest,
  };
};
console.log(`done in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
console.log(
  JSON.stringify({
    lists: listsDir,
    ...pick(real ?? synthetic),
    [values.quick ? 'syntheticQuick' : 'synthetic5M']: pick(synthetic),
  }),
);
