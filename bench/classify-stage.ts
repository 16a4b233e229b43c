/**
 * One stage of the classification benchmark, run in its own process so each memory figure is
 * the growth of a fresh process (RSS after a forced GC), not what earlier stages left behind.
 * Prints human lines on stderr and one JSON object on stdout. Driven by bench/classify.ts.
 *
 *   build    --lists DIR | --synthetic N, --out DIR  build the index, write snapshot and lookup mix
 *   serve    --out DIR                                load the snapshot, time lookups
 *   baseline --lists DIR | --synthetic N, --out DIR  a Set<string> suffix walk over the same lists
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildClassifier, loadClassifierSnapshot, type Classifier } from '../src/core/index.ts';
import { loadLists } from './load-lists.ts';
import { lookupMix, random, syntheticLists } from './synthetic-lists.ts';

const MIX_SIZE = 1_000_000;
const MEASURE_SECONDS = 2.5;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { lists: { type: 'string' }, synthetic: { type: 'string' }, out: { type: 'string' } },
});
const stage = positionals[0];
const outDir = values.out ?? '.';
const snapshotFile = path.join(outDir, 'index.snap');
const hostsFile = path.join(outDir, 'hosts.txt');

const collect = (): void => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
};
const settledRss = (): number => {
  collect();
  return process.memoryUsage.rss();
};
const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;
const say = (line: string): void => void process.stderr.write(`  ${line}\n`);
const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

const source = () => (values.lists ? loadLists(values.lists) : syntheticLists(Number(values.synthetic)));

/**
 * Lookups a second over the hosts, after a warm-up pass, for about MEASURE_SECONDS: per second of
 * this process's CPU time (what "per core" means, and steady when other work shares the machine)
 * and per wall-clock second (equal on an idle machine).
 */
const timeLookups = (hosts: readonly string[], lookup: (host: string) => number): { cpu: number; wall: number } => {
  let sink = 0;
  for (const h of hosts) sink += lookup(h);
  let done = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  while (seconds(start) < MEASURE_SECONDS) {
    for (let i = 0; i < hosts.length; i++) sink += lookup(hosts[i]!);
    done += hosts.length;
  }
  const cpu = process.cpuUsage(cpu0);
  if (sink === -1) say('(unreachable)'); // keeps the work observable
  return { cpu: done / ((cpu.user + cpu.system) / 1e6), wall: done / seconds(start) };
};

/**
 * The same hosts drawn with Zipf(1) popularity, as real DNS and proxy traffic repeats popular
 * names, each a fresh string as parsed from a packet.
 */
const zipfMix = (hosts: readonly string[], count: number): string[] => {
  const next = random(11);
  const harmonic = Math.log(hosts.length) + 0.5772;
  return Array.from({ length: count }, () => {
    const h = hosts[Math.min(hosts.length - 1, Math.floor(Math.exp(next() * harmonic - 0.5772)))]!;
    return String.fromCharCode(...Array.from(h, (c) => c.charCodeAt(0)));
  });
};

/** A digest of the answers over the mix, so the serve stage can prove the snapshot answers alike. */
const answerDigest = (c: Classifier, hosts: readonly string[]): number => {
  let h = 0;
  for (const host of hosts) for (const m of c.matchHost(host)) h = (Math.imul(h, 31) + m.list * 1000 + m.specificity) | 0;
  return h;
};

const build = () => {
  const rss0 = settledRss();
  const t0 = process.hrtime.bigint();
  let lists = source();
  const readSeconds = seconds(t0);
  const t1 = process.hrtime.bigint();
  const classifier = buildClassifier(lists);
  const buildSeconds = seconds(t1);
  const listed = lists.flatMap((l) => l.domains.filter((d) => d !== ''));
  const hosts = lookupMix(listed, MIX_SIZE);
  writeFileSync(hostsFile, hosts.join('\n'));
  lists = [];
  listed.length = 0;
  const digest = answerDigest(classifier, hosts);
  hosts.length = 0;
  const builtBytes = settledRss() - rss0;
  const snapshot = classifier.toSnapshot();
  writeFileSync(snapshotFile, snapshot);
  const domains = classifier.domainCount;
  say(`read lists in ${round(readSeconds)} s, built ${domains} distinct domains/IPs in ${round(buildSeconds)} s`);
  say(
    `after build (input dropped, GC): RSS +${(builtBytes / 1e6).toFixed(1)} MB = ${(builtBytes / domains).toFixed(1)} B/domain; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
  );
  say(
    `snapshot ${(snapshot.byteLength / 1e6).toFixed(1)} MB = ${(snapshot.byteLength / domains).toFixed(1)} B/domain; warnings: ${classifier.warnings.length}`,
  );
  return {
    domains,
    readSeconds: round(readSeconds),
    buildSeconds: round(buildSeconds),
    loadSeconds: round(readSeconds + buildSeconds),
    builtBytesPerDomain: round(builtBytes / domains, 2),
    buildPeakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    snapshotBytes: snapshot.byteLength,
    warnings: classifier.warnings.length,
    digest,
  };
};

const serve = () => {
  const rss0 = settledRss();
  const t0 = process.hrtime.bigint();
  const classifier = loadClassifierSnapshot(readFileSync(snapshotFile));
  const snapshotLoadSeconds = seconds(t0);
  const domains = classifier.domainCount;
  const bytes = settledRss() - rss0;
  const hosts = readFileSync(hostsFile, 'utf8').split('\n');
  const digest = answerDigest(classifier, hosts);
  const uniform = timeLookups(hosts, (h) => classifier.matchHost(h).length);
  const zipf = timeLookups(zipfMix(hosts, MIX_SIZE), (h) => classifier.matchHost(h).length);
  const rate = (r: { cpu: number; wall: number }) => `${(r.cpu / 1e6).toFixed(2)} M lookups/s (wall clock ${(r.wall / 1e6).toFixed(2)})`;
  say(
    `snapshot loaded in ${(snapshotLoadSeconds * 1000).toFixed(0)} ms (read + checksum + views); RSS +${(bytes / 1e6).toFixed(1)} MB = ${(bytes / domains).toFixed(1)} B/domain`,
  );
  say(`index, ${hosts.length} pre-generated hosts (1/3 listed, 1/3 subdomains, 1/3 unlisted), each as likely: ${rate(uniform)}`);
  say(`index, the same hosts with Zipf(1) popularity: ${rate(zipf)}`);
  return {
    domains,
    snapshotLoadSeconds: round(snapshotLoadSeconds),
    bytesPerDomain: round(bytes / domains, 2),
    lookupsPerSecond: Math.round(uniform.cpu),
    lookupsPerWallSecond: Math.round(uniform.wall),
    zipfLookupsPerSecond: Math.round(zipf.cpu),
    digest,
  };
};

const baseline = () => {
  const rss0 = settledRss();
  let lists = source();
  const set = new Set<string>();
  for (const l of lists) for (const d of l.domains) if (d !== '') set.add(d);
  lists = [];
  const bytes = settledRss() - rss0;
  const hosts = readFileSync(hostsFile, 'utf8').split('\n');
  const lookup = (host: string): number => {
    if (set.has(host)) return 1;
    for (let i = host.indexOf('.'); i >= 0; i = host.indexOf('.', i + 1)) if (set.has(host.slice(i + 1))) return 1;
    return 0;
  };
  const rate = timeLookups(hosts, lookup);
  say(
    `Set<string> baseline: ${set.size} domains, RSS +${(bytes / 1e6).toFixed(1)} MB = ${(bytes / set.size).toFixed(1)} B/domain (strings included), ${(rate.cpu / 1e6).toFixed(2)} M lookups/s (wall clock ${(rate.wall / 1e6).toFixed(2)})`,
  );
  return {
    baselineDomains: set.size,
    baselineBytesPerDomain: round(bytes / set.size, 2),
    baselineLookupsPerSecond: Math.round(rate.cpu),
  };
};

const stages: Record<string, () => object> = { build, serve, baseline };
const run = stage === undefined ? undefined : stages[stage];
if (!run) throw new Error(`unknown stage ${String(stage)}: build, serve or baseline`);
process.stdout.write(`${JSON.stringify(run())}\n`);
