/**
 * DNS filter benchmark: `npm run bench:dns -- [--quick] [--runs N] [--seconds S] [--latency-rate Q|auto]
 * [--server-cpu C] [--load-cpu C] [--without-shared-lists] [--profile] [--keep]`.
 *
 * One bounded run on 127.0.0.1 measuring Haven's DNS filter beside dnsmasq and unbound, with the
 * same blocklist, the same upstream and the same dnsperf load, as ../shared/bench-peers measured
 * the peer baselines (../shared/research/peer-baselines.md):
 *
 *  1. A seeded blocklist of 1,000,000 distinct domains (100,000 with --quick; none is a parent or
 *     child of another), 10,000 allowed and 10,000 blocked test names (half listed entries, half
 *     sub-domains of them). Query mix: 85 % allowed names (cache hits once warm), 10 % blocked,
 *     5 % names no server has seen (cache misses answered by the upstream; every file has its own).
 *  2. The upstream: dnsmasq answering every A question with 192.0.2.1 itself (TTL 1 h).
 *  3. Haven: a fresh HAVEN_DATA_DIR, one school (`haven school add`), the blocklist imported as a
 *     UT1-form list (`haven lists import`) together with the shared category lists
 *     (../shared/data/categories or HAVEN_SHARED_LISTS; skipped with a note when absent, required
 *     when CI=true), then `haven serve --role dns` on SQLite, with identity, policy, events and
 *     the per-client rate limiter on (at 1,000,000 q/s: all the load comes from one address).
 *  4. dnsmasq (`local=/domain/`, 20k cache) and unbound (`local-zone: "domain." always_nxdomain`,
 *     one thread), configured as in the baselines but forwarding to the same upstream.
 *  5. Placement as in the baselines: each server pinned to CPU 1, dnsperf and the upstream on CPU 0.
 *     A second Haven (a copy of the same data folder) runs unpinned with two DNS workers sharing its port
 *     (HAVEN_DNS_WORKERS=2): the both-cores figure; its CPU time and RSS are the primary's and the workers'.
 *     All four load first; each is warmed (every test name once, then a short run of the mix);
 *     then N rounds (3; 1 with --quick) of S-second runs (10; 3 with --quick) with dnsperf -c 16
 *     -q 100 (the baselines' main figure), each server once per round in turning order so outside
 *     load spreads over all of them; the median run counts. Then one latency run each at a fixed
 *     rate (auto: half the slowest server's q/s, so none is saturated) with dnsperf -v, whose
 *     per-answer latencies give p50/p99 (dnsperf 2.10 has no latency histogram).
 *
 * RSS is VmRSS of the server process 2 s after its first correct answer. mibPerMillionDomains is
 * the growth the list causes: each server is also started without it (Haven: with the shared lists
 * only) and the difference is divided by the list's size in millions. The server's CPU time gives
 * qpsPerCpuSecond, which outside load disturbs far less than q/s on a shared machine.
 *
 * Prints a table, then as its last line one JSON object: haven (one core), havenBothCores, dnsmasq
 * and unbound, each with qps, p50Ms, p99Ms, lost, rssMiB, mibPerMillionDomains and more;
 * havenToDnsmasq and havenToUnbound (one-core q/s ratios), the same per CPU-second, Haven's index
 * size, and a check that every answer became an event.
 *
 * --profile runs Haven alone, pinned, under `node --cpu-prof`, and prints the hottest functions
 * (self and total time) over one throughput run; the profiler slows it, so its q/s are not comparable.
 * Every process is stopped by its PID, also on errors and signals. Full run about 4 minutes, --quick about 2.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { DEFAULT_MIX, generateNames, writeQueryFile, writeWarmupFile, type BenchNames } from './dns-data.ts';
import { DNSPERF, runDnsperf, type LatencySummary, type PerfSummary } from './dns-perf.ts';
import { cpuSeconds, installCleanup, probe, sleep, treeRssKiB, type ProbeAnswer } from './dns-processes.ts';
import { mainThreadProfile, summariseProfile, type ProfileSummary } from './dns-profile.ts';
import {
  DNSMASQ,
  isHavenBlock,
  isNxdomain,
  isUpstreamAnswer,
  prepareHaven,
  startDnsmasq,
  startHaven,
  startUnbound,
  startUpstream,
  UNBOUND,
  writeDnsmasqBlocklist,
  writeHavenLists,
  writeUnboundBlocklist,
  type Server,
} from './dns-servers.ts';
import { sharedListsDir } from './load-lists.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    domains: { type: 'string' },
    seconds: { type: 'string' },
    runs: { type: 'string' },
    'latency-rate': { type: 'string', default: 'auto' },
    'server-cpu': { type: 'string', default: '1' },
    'load-cpu': { type: 'string', default: '0' },
    'without-shared-lists': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const intArg = (name: string, raw: string, min: number, max: number): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} takes a whole number from ${min} to ${max}, not ${raw}`);
  return n;
};

const quick = values.quick;
const DOMAINS = intArg('domains', values.domains ?? (quick ? '100000' : '1000000'), 1000, 5_000_000);
const SECONDS = intArg('seconds', values.seconds ?? (quick ? '3' : '10'), 1, 60);
const RUNS = intArg('runs', values.runs ?? (quick ? '1' : '3'), 1, 5);
/** Fixed rate of the latency runs; auto: half the slowest server's median q/s, so none is saturated and all see the same load. */
const LATENCY_RATE_ARG = values['latency-rate'] === 'auto' ? null : intArg('latency-rate', values['latency-rate'], 1000, 200_000);
const LATENCY_SECONDS = quick ? 3 : 5;
const WARM_MIX_SECONDS = quick ? 1 : 2;
const TEST_NAMES = 10_000;
const CLIENTS = 16;
const OUTSTANDING = 100;
/** Lines per second of run in a query file: above any server's rate here, so unique names never repeat. */
const LINES_PER_SECOND = 250_000;
const HARD_LIMIT_MS = 20 * 60_000;
/** After the first correct answer, before reading RSS (as the baselines did). */
const SETTLE_MS = 2000;
const CI = process.env.CI === 'true';

const cores = availableParallelism();
const haveTaskset = existsSync('/usr/bin/taskset');
const pinning = cores >= 2 && haveTaskset;
const SERVER_CPU = pinning ? values['server-cpu'] : null;
const LOAD_CPU = pinning ? values['load-cpu'] : null;
const ALL_CPUS = `0-${cores - 1}`;

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
const round = (n: number, digits = 0) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null);
const log = (line: string) => console.log(line);
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** A port free for both UDP and TCP on 127.0.0.1. */
const freePort = async (): Promise<number> => {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as { port: number };
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
};

/** Busy share of each CPU between two readings of /proc/stat. */
const cpuTimes = (): number[][] =>
  readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => l.split(/\s+/).slice(1, 9).map(Number));
const busyShare = (before: number[][], after: number[][]): number[] =>
  after.map((a, i) => {
    const b = before[i]!;
    const d = a.map((v, j) => v - b[j]!);
    const total = d.reduce((s, v) => s + v, 0);
    const idle = d[3]! + d[4]!;
    return total > 0 ? Math.round((100 * (total - idle)) / total) : 0;
  });

type Key = 'haven' | 'havenBothCores' | 'dnsmasq' | 'unbound';

/** One server under test and what was measured on it. */
interface Contender {
  key: Key;
  label: string;
  server: Server;
  cpus: string;
  rssKiB: number;
  baseRssKiB: number | null;
  answersChecked: boolean;
  runs: PerfSummary[];
  cpuSeconds: number;
  wallSeconds: number;
  /** Busy share of each CPU during each throughput run. */
  busy: number[][];
  answered: number;
  uniqueRepeated: boolean;
  latency: LatencySummary | null;
  latencyQps: number;
  rssAfterKiB: number;
}

const main = async () => {
  const t0 = performance.now();
  installCleanup();
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench:dns: over ${HARD_LIMIT_MS / 60_000} minutes; stopping everything\n`);
    process.exit(124); // the exit handler kills every child
  }, HARD_LIMIT_MS);
  watchdog.unref();

  if (!existsSync(DNSPERF)) throw new Error(`needs ${DNSPERF} (Debian's dnsperf)`);
  if (!existsSync(DNSMASQ)) throw new Error(`needs ${DNSMASQ} (Debian's dnsmasq-base): it is the shared upstream`);
  const haveUnbound = existsSync(UNBOUND);
  if (!haveUnbound && CI) throw new Error(`needs ${UNBOUND} when CI=true`);
  const shared = values['without-shared-lists'] ? null : sharedListsDir();
  if (shared === null && CI && !values['without-shared-lists'])
    throw new Error('the shared category lists (../shared/data/categories or HAVEN_SHARED_LISTS) are required when CI=true');
  const notes: string[] = [];
  if (!pinning)
    notes.push(
      haveTaskset ? 'only one CPU: nothing is pinned, and the servers share it with dnsperf' : 'no taskset (util-linux): nothing is pinned',
    );
  if (!haveUnbound) notes.push(`${UNBOUND} is missing: unbound is skipped`);
  if (shared === null)
    notes.push(
      values['without-shared-lists']
        ? 'shared category lists left out (--without-shared-lists)'
        : 'no shared category lists (../shared/data/categories): Haven loads the benchmark list only',
    );
  const loadAverageAtStart = loadavg().map((v) => round(v, 2));

  const work = mkdtempSync(path.join(tmpdir(), 'haven-bench-dns-'));
  const removeWork = () => {
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  };
  process.on('exit', removeWork);
  const running: Server[] = [];
  const stopAll = async () => {
    for (const s of running.splice(0).reverse()) await s.stop();
  };
  const stopOne = async (s: Server) => {
    const i = running.indexOf(s);
    if (i >= 0) running.splice(i, 1);
    await s.stop();
  };

  try {
    log(
      `bench:dns: ${DOMAINS.toLocaleString('en-GB')} domains, ${values.profile ? `Haven profiled over one ${SECONDS} s run` : `${RUNS} × ${SECONDS} s runs per server`}, work in ${work}`,
    );
    log(
      `  placement: servers on CPU ${SERVER_CPU ?? 'any'} (haven, both cores: any), dnsperf and the upstream on CPU ${LOAD_CPU ?? 'any'}; ${cores} CPUs, load average ${loadAverageAtStart.join(' ')}`,
    );
    for (const n of notes) log(`  note: ${n}`);

    // 1. Data.
    let t = performance.now();
    const names: BenchNames = generateNames(DOMAINS, TEST_NAMES);
    const dnsmasqList = path.join(work, 'dnsmasq-blocklist.conf');
    const unboundList = path.join(work, 'unbound-blocklist.conf');
    const emptyList = path.join(work, 'empty.conf');
    writeDnsmasqBlocklist(dnsmasqList, names.domains);
    writeUnboundBlocklist(unboundList, names.domains);
    writeDnsmasqBlocklist(emptyList, []);
    const havenLists = path.join(work, 'lists');
    writeHavenLists(havenLists, 'bench', names.domains, shared);
    const warmFile = path.join(work, 'warmup.txt');
    await writeWarmupFile(warmFile, [...names.allowed, ...names.blocked], 11);
    const listedProbe = names.blocked[0]!; // a listed entry
    const subProbe = names.blocked[1]!; // a sub-domain of one
    log(`  generated the lists and names in ${elapsed(t)}`);

    // 2. Haven's data folders: the benchmark list with the shared lists, and the shared lists alone.
    t = performance.now();
    const havenDir = path.join(work, 'haven');
    const imported = await prepareHaven(havenDir, havenLists, 'bench');
    log(`  haven lists import: ${imported['distinct domains'] ?? '?'} distinct domains in ${imported.lists ?? '?'} lists (${elapsed(t)})`);
    // The both-cores process gets its own copy (its own database for events).
    const havenDir2 = path.join(work, 'haven-2');
    cpSync(havenDir, havenDir2, { recursive: true });
    t = performance.now();
    const havenBaseDir = path.join(work, 'haven-base');
    const baseImported = values.profile ? {} : await prepareHaven(havenBaseDir, shared, 'ut1');
    if (shared && !values.profile)
      log(`  haven base (shared lists only): ${baseImported['distinct domains'] ?? '?'} distinct domains (${elapsed(t)})`);
    const havenDomains = Number(imported['distinct domains'] ?? Number.NaN);
    const snapshotBytes = (summary: Record<string, string>) => Number(/\((\d+) bytes\)/.exec(summary.snapshot ?? '')?.[1] ?? Number.NaN);
    // The classifier's index file: what the lists cost Haven, steadier than RSS (which the V8 heap's state moves by a few MiB).
    const snapshot = {
      bytes: snapshotBytes(imported),
      withoutListBytes: shared ? snapshotBytes(baseImported) : 0,
    };

    // 3. The upstream.
    const upstreamPort = await freePort();
    running.push(await startUpstream(path.join(work, 'upstream'), upstreamPort, LOAD_CPU));

    let fileSeq = 0;
    const queryFile = async (lines: number): Promise<string> => {
      const seq = fileSeq++;
      const file = path.join(work, `queries-${seq}.txt`);
      await writeQueryFile(file, names, { lines, mix: DEFAULT_MIX, tag: `u${seq}`, seed: 1000 + seq });
      return file;
    };
    const settledRss = async (pid: number) => {
      await sleep(SETTLE_MS);
      return treeRssKiB(pid);
    };

    /** Answers as a filtering resolver should: allowed and new names from the upstream, listed names and their sub-domains blocked. */
    const check = async (label: string, port: number, blockedOk: (a: ProbeAnswer) => boolean): Promise<boolean> => {
      const allowed = await probe(port, names.allowed[0]!, 2000);
      const fresh = await probe(port, `check-${Date.now()}.${names.allowed[1]!}`, 2000);
      const listed = await probe(port, listedProbe, 2000);
      const sub = await probe(port, subProbe, 2000);
      const ok = [allowed, fresh].every((a) => a !== null && isUpstreamAnswer(a)) && [listed, sub].every((a) => a !== null && blockedOk(a));
      if (!ok) log(`  WARNING: ${label} answered wrongly: ${JSON.stringify({ allowed, fresh, listed, sub })}`);
      return ok;
    };

    const results: Contender[] = [];
    let latencyRateUsed = 0;
    let profile: ProfileSummary | null = null;

    if (values.profile) {
      // --profile: Haven alone, pinned, under the V8 sampling profiler.
      const profDir = path.join(work, 'cpu-prof');
      mkdirSync(profDir, { recursive: true });
      const port = await freePort();
      const haven = await startHaven(havenDir, {
        port,
        upstreamPort,
        cpus: SERVER_CPU,
        probeName: listedProbe,
        logFile: path.join(work, 'haven-profile.log'),
        nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
      });
      running.push(haven);
      await check('haven', port, isHavenBlock);
      await runDnsperf({ cpu: LOAD_CPU, port, file: warmFile, passes: 1, clients: CLIENTS, outstanding: OUTSTANDING });
      const file = await queryFile(LINES_PER_SECOND * SECONDS);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      const cpu0 = cpuSeconds(haven.process.pid);
      const { summary } = await runDnsperf({ cpu: LOAD_CPU, port, file, seconds: SECONDS, clients: CLIENTS, outstanding: OUTSTANDING });
      const cpuUsed = cpuSeconds(haven.process.pid) - cpu0;
      const toUs = Number(process.hrtime.bigint() / 1000n);
      log(
        `    haven (profiled): ${Math.round(summary.qps).toLocaleString('en-GB')} q/s, ${Math.round(summary.completed / cpuUsed).toLocaleString('en-GB')} per CPU-second`,
      );
      await stopOne(haven);
      const prof = mainThreadProfile(profDir);
      if (!prof) throw new Error('Haven wrote no CPU profile');
      profile = summariseProfile(prof, { fromUs, toUs }, 25);
      log(`  profile: ${profile.samplesInWindow} samples in the run, ${profile.busyPercent} % busy`);
      log('  hottest functions (self time, % of busy samples):');
      for (const h of profile.topFunctions) log(`    ${h.selfPercent.toFixed(1).padStart(5)} %  ${h.name}`);
      log('  most time including callees (% of busy samples):');
      for (const h of profile.topInclusive) log(`    ${h.selfPercent.toFixed(1).padStart(5)} %  ${h.name}`);
      log('  hottest files:');
      for (const h of profile.topFiles.slice(0, 15)) log(`    ${h.selfPercent.toFixed(1).padStart(5)} %  ${h.name}`);
      if (values.keep) log(`  kept ${prof}`);
      await stopAll();
      log(`done in ${elapsed(t0)}`);
      console.log(
        JSON.stringify({
          mode: 'profile',
          domains: DOMAINS,
          seconds: SECONDS,
          profiledQps: Math.round(summary.qps),
          profiledQpsPerCpuSecond: Math.round(summary.completed / cpuUsed),
          profile,
        }),
      );
      return;
    }

    // 4. Memory without the blocklist (Haven: with the shared lists only), one server at a time.
    t = performance.now();
    const baseRss: Partial<Record<Key, number>> = {};
    // With no blocklist nothing answers NXDOMAIN: each is ready once it answers an allowed name.
    const base = async (key: Key, start: (port: number) => Promise<Server>) => {
      try {
        const s = await start(await freePort());
        running.push(s);
        baseRss[key] = await settledRss(s.process.pid);
        await stopOne(s);
      } catch (e) {
        log(`  could not measure ${key}'s memory without the list: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    const baseProbe = { probeName: names.allowed[0]!, ready: isUpstreamAnswer, cpus: SERVER_CPU, upstreamPort };
    if (haveUnbound)
      await base('unbound', (port) =>
        startUnbound(path.join(work, 'unbound'), { ...baseProbe, port, blocklist: emptyList, label: 'unbound-base' }),
      );
    await base('dnsmasq', (port) =>
      startDnsmasq(path.join(work, 'dnsmasq'), { ...baseProbe, port, blocklist: emptyList, label: 'dnsmasq-base' }),
    );
    await base('haven', (port) =>
      startHaven(havenBaseDir, { ...baseProbe, port, logFile: path.join(work, 'haven-base.log'), label: 'haven-base' }),
    );
    log(
      `  RSS without the list: ${Object.entries(baseRss)
        .map(([k, v]) => `${k} ${mib(v)} MiB`)
        .join(', ')} (${elapsed(t)})`,
    );

    // 5. Every server with the blocklist, all loaded side by side (idle ones cost nothing).
    const add = async (
      key: Key,
      label: string,
      cpus: string,
      start: (port: number) => Promise<Server>,
      blockedOk: (a: ProbeAnswer) => boolean,
    ) => {
      const port = await freePort();
      const server = await start(port);
      running.push(server);
      const rssKiB = await settledRss(server.process.pid);
      const answersChecked = await check(label, port, blockedOk);
      log(`  ${label}: answering ${server.loadSeconds.toFixed(2)} s after start, RSS ${mib(rssKiB)} MiB`);
      results.push({
        key,
        label,
        server,
        cpus,
        rssKiB,
        baseRssKiB: baseRss[key === 'havenBothCores' ? 'haven' : key] ?? null,
        answersChecked,
        runs: [],
        cpuSeconds: 0,
        wallSeconds: 0,
        busy: [],
        answered: 0,
        uniqueRepeated: false,
        latency: null,
        latencyQps: 0,
        rssAfterKiB: 0,
      });
    };
    const pinnedTo = SERVER_CPU ?? ALL_CPUS;
    const peerOptions = (port: number, blocklist: string) => ({ port, upstreamPort, blocklist, cpus: SERVER_CPU, probeName: listedProbe });
    if (haveUnbound)
      await add(
        'unbound',
        'unbound',
        pinnedTo,
        (port) => startUnbound(path.join(work, 'unbound'), peerOptions(port, unboundList)),
        isNxdomain,
      );
    await add(
      'dnsmasq',
      'dnsmasq',
      pinnedTo,
      (port) => startDnsmasq(path.join(work, 'dnsmasq'), peerOptions(port, dnsmasqList)),
      isNxdomain,
    );
    const havenOptions = (port: number, cpus: string | null, log: string) => ({
      port,
      upstreamPort,
      cpus,
      probeName: listedProbe,
      logFile: path.join(work, log),
    });
    await add(
      'haven',
      'haven (1 core)',
      pinnedTo,
      (port) => startHaven(havenDir, havenOptions(port, SERVER_CPU, 'haven.log')),
      isHavenBlock,
    );
    if (pinning)
      await add(
        'havenBothCores',
        'haven (both cores)',
        ALL_CPUS,
        (port) => startHaven(havenDir2, { ...havenOptions(port, null, 'haven-2.log'), label: 'haven-2', workers: 2 }),
        isHavenBlock,
      );

    // Warm-up: every test name once (fills the caches), then a short run of the mix.
    t = performance.now();
    for (const c of results) {
      const warm = await runDnsperf({
        cpu: LOAD_CPU,
        port: c.server.port,
        file: warmFile,
        passes: 1,
        clients: CLIENTS,
        outstanding: OUTSTANDING,
      });
      const mixFile = await queryFile(LINES_PER_SECOND * WARM_MIX_SECONDS);
      const mix = await runDnsperf({
        cpu: LOAD_CPU,
        port: c.server.port,
        file: mixFile,
        seconds: WARM_MIX_SECONDS,
        clients: CLIENTS,
        outstanding: OUTSTANDING,
      });
      unlinkSync(mixFile);
      c.answered += warm.summary.completed + mix.summary.completed;
    }
    log(`  warmed up (${elapsed(t)})`);

    // Throughput: rounds, each server once per round, the order turning, so outside load spreads over all.
    for (let round = 0; round < RUNS; round++) {
      for (let i = 0; i < results.length; i++) {
        const c = results[(i + round) % results.length]!;
        const lines = LINES_PER_SECOND * SECONDS;
        const file = await queryFile(lines);
        const cpuBefore = cpuSeconds(c.server.process.pid);
        const statBefore = cpuTimes();
        const w0 = performance.now();
        const { summary } = await runDnsperf({
          cpu: LOAD_CPU,
          port: c.server.port,
          file,
          seconds: SECONDS,
          clients: CLIENTS,
          outstanding: OUTSTANDING,
        });
        c.wallSeconds += (performance.now() - w0) / 1000;
        c.cpuSeconds += cpuSeconds(c.server.process.pid) - cpuBefore;
        c.busy.push(busyShare(statBefore, cpuTimes()));
        unlinkSync(file);
        if (summary.sent > lines) c.uniqueRepeated = true;
        c.runs.push(summary);
        c.answered += summary.completed;
        log(
          `    round ${round + 1} ${c.label}: ${Math.round(summary.qps).toLocaleString('en-GB')} q/s, avg ${summary.avgLatencyMs.toFixed(3)} ms, lost ${summary.lost}, ${Object.entries(
            summary.rcodes,
          )
            .map(([k, v]) => `${k} ${v}`)
            .join(' ')}; CPUs busy ${c.busy.at(-1)!.join('/')} %`,
        );
      }
    }

    // Latency at one fixed rate below every server's ceiling (see latencyQps for what each got).
    const medianQps = (c: Contender) => [...c.runs].sort((a, b) => a.qps - b.qps)[Math.floor((c.runs.length - 1) / 2)]!.qps;
    latencyRateUsed = LATENCY_RATE_ARG ?? Math.max(1000, Math.floor(Math.min(...results.map(medianQps)) / 2 / 1000) * 1000);
    for (const c of results) {
      const file = await queryFile(Math.ceil(latencyRateUsed * LATENCY_SECONDS * 1.2));
      const lat = await runDnsperf({
        cpu: LOAD_CPU,
        port: c.server.port,
        file,
        seconds: LATENCY_SECONDS,
        clients: CLIENTS,
        outstanding: OUTSTANDING,
        rate: latencyRateUsed,
        verbose: true,
      });
      unlinkSync(file);
      c.answered += lat.summary.completed;
      c.latency = lat.latency;
      c.latencyQps = lat.summary.qps;
      c.rssAfterKiB = treeRssKiB(c.server.process.pid);
      log(
        `    ${c.label} at ${latencyRateUsed.toLocaleString('en-GB')} q/s (got ${Math.round(lat.summary.qps).toLocaleString('en-GB')}): p50 ${lat.latency!.p50Ms.toFixed(3)} ms, p99 ${lat.latency!.p99Ms.toFixed(3)} ms`,
      );
    }

    // Every answered question should be an event in the database (the sink flushes on stop).
    const havenEvents: Record<string, { logged: number; answered: number }> = {};
    for (const c of results) await stopOne(c.server);
    for (const c of results.filter((r) => r.key === 'haven' || r.key === 'havenBothCores')) {
      try {
        const db = new Database(path.join(c.key === 'haven' ? havenDir : havenDir2, 'haven.db'), { readonly: true });
        const row = db.prepare('SELECT count(*) AS n FROM filter_event').get() as { n: number };
        db.close();
        havenEvents[c.key] = { logged: row.n, answered: c.answered };
        log(`  ${c.label} logged ${row.n.toLocaleString('en-GB')} events; dnsperf counted ${c.answered.toLocaleString('en-GB')} answers`);
      } catch (e) {
        log(`  could not count ${c.label}'s events: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    await stopAll();

    // 6. Report.
    const byKey = (k: Key) => results.find((r) => r.key === k);
    const medianRun = (c: Contender) => [...c.runs].sort((a, b) => a.qps - b.qps)[Math.floor((c.runs.length - 1) / 2)]!;
    const perMillion = (c: Contender) => (c.baseRssKiB === null ? null : round((c.rssKiB - c.baseRssKiB) / 1024 / (DOMAINS / 1e6), 1));
    const serverCore = SERVER_CPU === null ? -1 : Number(SERVER_CPU);
    const figures = (c: Contender | undefined) => {
      if (!c) return null;
      const m = medianRun(c);
      const completed = c.runs.reduce((s, r) => s + r.completed, 0);
      const cpuPercent = Math.round((100 * c.cpuSeconds) / Math.max(c.wallSeconds, 1e-9));
      const busy = c.busy[0]!.map((_, i) => Math.round(c.busy.reduce((s, b) => s + b[i]!, 0) / c.busy.length));
      return {
        qps: Math.round(m.qps),
        p50Ms: round(c.latency!.p50Ms, 3),
        p99Ms: round(c.latency!.p99Ms, 3),
        lost: m.lost,
        rssMiB: mib(c.rssKiB),
        mibPerMillionDomains: perMillion(c),
        qpsPerCpuSecond: Math.round(completed / Math.max(c.cpuSeconds, 1e-9)),
        runsQps: c.runs.map((r) => Math.round(r.qps)),
        lostPerRun: c.runs.map((r) => r.lost),
        avgMsAtMaxLoad: round(m.avgLatencyMs, 3),
        p90Ms: round(c.latency!.p90Ms, 3),
        maxMs: round(c.latency!.maxMs, 3),
        latencyQps: Math.round(c.latencyQps),
        rssAfterRunsMiB: mib(c.rssAfterKiB),
        rssWithoutListMiB: c.baseRssKiB === null ? null : mib(c.baseRssKiB),
        answeringAfterSeconds: round(c.server.loadSeconds, 2),
        cpus: c.cpus,
        serverCpuPercent: cpuPercent,
        coreBusyPercent: busy,
        // Busy time on the server's core that was not the server (other processes, interrupts).
        otherLoadOnServerCorePercent: c.key === 'havenBothCores' || serverCore < 0 ? null : Math.max(0, busy[serverCore]! - cpuPercent),
        rcodes: m.rcodes,
        answersChecked: c.answersChecked,
        uniqueNamesRepeated: c.uniqueRepeated,
      };
    };
    const ratio = (a: Contender | undefined, b: Contender | undefined) => (a && b ? round(medianRun(a).qps / medianRun(b).qps, 2) : null);
    const out = {
      haven: figures(byKey('haven')),
      havenBothCores: figures(byKey('havenBothCores')),
      dnsmasq: figures(byKey('dnsmasq')),
      unbound: figures(byKey('unbound')),
    };

    log('');
    log(
      `${'server'.padEnd(20)}${'q/s'.padStart(9)}${'q/CPU-s'.padStart(9)}${'avg ms'.padStart(8)}${'lost'.padStart(6)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'RSS MiB'.padStart(9)}${'MiB/1M'.padStart(8)}${'cpu %'.padStart(7)}${'other %'.padStart(8)}`,
    );
    for (const [name, f] of [
      ['haven (1 core)', out.haven],
      ['haven (both cores)', out.havenBothCores],
      ['dnsmasq', out.dnsmasq],
      ['unbound', out.unbound],
    ] as const) {
      if (!f) continue;
      log(
        `${name.padEnd(20)}${f.qps.toLocaleString('en-GB').padStart(9)}${f.qpsPerCpuSecond.toLocaleString('en-GB').padStart(9)}${(f.avgMsAtMaxLoad ?? 0).toFixed(2).padStart(8)}${String(f.lost).padStart(6)}${(f.p50Ms ?? 0).toFixed(3).padStart(8)}${(f.p99Ms ?? 0).toFixed(3).padStart(8)}${f.rssMiB.toFixed(1).padStart(9)}${(f.mibPerMillionDomains === null ? '–' : f.mibPerMillionDomains.toFixed(0)).padStart(8)}${String(f.serverCpuPercent).padStart(7)}${(f.otherLoadOnServerCorePercent === null ? '–' : String(f.otherLoadOnServerCorePercent)).padStart(8)}`,
      );
    }
    log(
      `  q/s: median of ${RUNS} × ${SECONDS} s runs (dnsperf -c ${CLIENTS} -q ${OUTSTANDING}); q/CPU-s: answers per CPU-second the server used; p50/p99 at a fixed ${latencyRateUsed.toLocaleString('en-GB')} q/s;`,
    );
    log(
      '  MiB/1M: RSS growth per million listed domains; cpu %: server CPU time per wall second; other %: the rest of the server core’s busy time',
    );
    const h = byKey('haven');
    const d = byKey('dnsmasq');
    const u = byKey('unbound');
    if (h && d && u) {
      const toD = medianRun(h).qps / medianRun(d).qps;
      const toU = medianRun(h).qps / medianRun(u).qps;
      log(
        `  haven (1 core) = ${toD.toFixed(2)}× dnsmasq, ${toU.toFixed(2)}× unbound (target ≥ 1× and ≥ 0.8×): ${toD >= 1 && toU >= 0.8 ? 'met' : 'NOT met'}`,
      );
    }
    if (results.some((r) => r.uniqueRepeated))
      log('  WARNING: a run sent more queries than its file holds, so some "unique" names were asked twice');
    const busyOthers = [out.haven, out.dnsmasq, out.unbound].map((f) => f?.otherLoadOnServerCorePercent ?? 0);
    if (Math.max(...busyOthers) > 15)
      log(
        '  WARNING: other processes used the server core during the runs: q/s are depressed and noisy; q/CPU-s is the steadier comparison',
      );
    log(`done in ${elapsed(t0)}`);
    console.log(
      JSON.stringify({
        domains: DOMAINS,
        havenDistinctDomains: Number.isFinite(havenDomains) ? havenDomains : null,
        sharedLists: shared,
        mix: DEFAULT_MIX,
        runs: RUNS,
        seconds: SECONDS,
        clients: CLIENTS,
        outstanding: OUTSTANDING,
        latencyRate: LATENCY_RATE_ARG ?? latencyRateUsed,
        serverCpu: SERVER_CPU,
        loadCpu: LOAD_CPU,
        ...out,
        havenToDnsmasq: ratio(h, d),
        havenToUnbound: ratio(h, u),
        havenBothCoresToDnsmasq: ratio(byKey('havenBothCores'), d),
        havenBothCoresToUnbound: ratio(byKey('havenBothCores'), u),
        havenToDnsmasqPerCpuSecond: out.haven && out.dnsmasq ? round(out.haven.qpsPerCpuSecond / out.dnsmasq.qpsPerCpuSecond, 2) : null,
        havenToUnboundPerCpuSecond: out.haven && out.unbound ? round(out.haven.qpsPerCpuSecond / out.unbound.qpsPerCpuSecond, 2) : null,
        havenSnapshot: Number.isFinite(snapshot.bytes)
          ? {
              ...snapshot,
              mibPerMillionDomains: Number.isFinite(snapshot.withoutListBytes)
                ? round((snapshot.bytes - snapshot.withoutListBytes) / 1048576 / (DOMAINS / 1e6), 1)
                : null,
            }
          : null,
        havenEvents,
        loadAverage: { start: loadAverageAtStart, end: loadavg().map((v) => round(v, 2)) },
        notes,
        totalSeconds: round((performance.now() - t0) / 1000, 1),
      }),
    );
  } finally {
    await stopAll().catch(() => undefined);
    if (values.keep) log(`  kept ${work}`);
    removeWork();
  }
};
await main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
