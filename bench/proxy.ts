/**
 * Forward-proxy benchmark: `npm run bench:proxy -- [--quick] [--runs N] [--seconds S]
 * [--domains N] [--connections C] [--server-cpu C] [--load-cpu C] [--without-squidguard]
 * [--profile [--profile-workload W]] [--keep]`.
 *
 * One bounded run on 127.0.0.1 measuring Haven's forward proxy beside squid, with the same
 * origin, blocklist and wrk load, as ../shared/bench-peers measured the peer baselines
 * (../shared/research/peer-baselines.md, section 2):
 *
 *  1. A seeded blocklist of 1,000,000 distinct domains (100,000 with --quick; bench/dns-data.ts),
 *     1,000 allowed test hosts and 1,000 blocked ones (listed entries and sub-domains of them),
 *     every test host at 127.0.0.1 in a hosts file.
 *  2. The origin: nginx, one worker, a 645-byte page; a second nginx on the server core is the
 *     limit ("direct": wrk to nginx with no proxy).
 *  3. Haven as in production: `haven school add`, `haven lists import` of the list as a UT1-form
 *     folder, `haven serve --role proxy` (HAVEN_PROXY_PORT) on SQLite with identity, policy and
 *     events on. It resolves upstream names with the system resolver, so it runs in a private
 *     mount namespace (`unshare -m`) with the hosts file bind-mounted over /etc/hosts.
 *  4. squid 5 without filtering, squid with the list as a `dstdomain` ACL (403 + error page), and
 *     squid + squidGuard (8 helpers, Berkeley DB, 302 to a block page), configured as in the
 *     baselines and resolving from the same hosts file.
 *  5. Placement as in the baselines: each proxy (and the direct nginx) pinned to CPU 1, wrk
 *     (-t2 -c50) and the origin on CPU 0. Workloads: allowed (every request to an allowed host),
 *     mix (90 % allowed, 10 % blocked hosts, the main figure) and blocked. All servers load first;
 *     each case is warmed once, then N rounds (3; 1 with --quick) of S-second runs (3; 2 with
 *     --quick), every case once per round in turning order so outside load spreads over all; each
 *     wrk case through a proxy runs 1 s more just before each measured run (idle upstream sockets
 *     close between rounds). The median run counts; p50/p99 are wrk's, at that full load.
 *  6. A bare node:http forward proxy (bench/proxy-node-baseline.ts: no filtering, events or limits)
 *     on the same core and hosts file: what Node's HTTP machinery alone costs, allowed hosts only.
 *  7. CONNECT, with a small Node client on the load core (wrk cannot open tunnels): `tunnels` =
 *     one tunnel per connection, kept, with keep-alive GETs inside (the byte pipe), against the
 *     same client straight to the direct nginx; `newTunnels` = a new tunnel for every request
 *     (the CONNECT decision and set-up). Haven and plain squid, allowed hosts only.
 *
 * RSS is VmRSS of the whole process tree (squid's helpers, nginx's worker) 2 s after the first
 * correct answer and again after the runs. The server's CPU time (the tree) gives
 * rpsPerCpuSecond, which outside load on this shared machine disturbs far less than requests/s;
 * otherLoadOnServerCorePercent is the rest of the server core's busy time during the runs.
 *
 * Prints a table, then as its last line one JSON object: each server's cases (rps, p50Ms, p99Ms,
 * rpsPerCpuSecond, …) and RSS, Haven's ratios to nginx direct, squid, squid + dstdomain and
 * squid + squidGuard (requests/s and per CPU-second), and a check that every request became an event.
 *
 * --profile runs Haven alone, pinned, under `node --cpu-prof` over one run of a workload (the mix
 * unless --profile-workload names another) and prints the hottest functions (the profiler slows
 * it: its figures are not comparable).
 * Every process is stopped by its PID, also on errors and signals; a watchdog ends the run after
 * 20 minutes. Full run about 5 minutes, --quick about 1½–2 (more on a loaded machine).
 *
 * Needs Debian's nginx-light, squid, wrk (and squidguard), and root (`unshare -m`, `mount --bind`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { generateNames } from './dns-data.ts';
import { installCleanup, sleep, treeRssKiB } from './dns-processes.ts';
import { mainThreadProfile, summariseProfile, type ProfileSummary } from './dns-profile.ts';
import { prepareHaven, writeHavenLists } from './dns-servers.ts';
import { busyShare, cpuTimes, freeTcpPort, mainThreadCpuSeconds, treeCpuSeconds } from './proxy-processes.ts';
import {
  httpGet,
  INSTALL_HINT,
  NGINX,
  PAGE_PATH,
  prepareSquidGuard,
  SQUID,
  SQUIDGUARD,
  startHaven,
  startNginx,
  startNodeBaseline,
  startSquid,
  UNSHARE,
  WRK,
  writeDstdomainList,
  writeHostsFile,
  writeSite,
  type Daemon,
} from './proxy-servers.ts';
import { runConnectLoad, runWrk, writeWrkScript, type WrkSummary } from './proxy-wrk.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    domains: { type: 'string' },
    seconds: { type: 'string' },
    runs: { type: 'string' },
    connections: { type: 'string', default: '50' },
    'server-cpu': { type: 'string', default: '1' },
    'load-cpu': { type: 'string', default: '0' },
    'without-squidguard': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-workload': { type: 'string', default: 'mix' },
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
const SECONDS = intArg('seconds', values.seconds ?? (quick ? '2' : '3'), 1, 60);
const RUNS = intArg('runs', values.runs ?? (quick ? '1' : '3'), 1, 5);
/** allowed, mix, blocked: wrk through the proxy; tunnels, newTunnels: the CONNECT client (bench/proxy-connect-client.ts). */
type Workload = 'allowed' | 'mix' | 'blocked' | 'tunnels' | 'newTunnels';
const WORKLOADS: readonly Workload[] = ['allowed', 'mix', 'blocked', 'tunnels', 'newTunnels'];
const isWorkload = (w: string): w is Workload => (WORKLOADS as readonly string[]).includes(w);
const PROFILE_WORKLOAD: Workload = (() => {
  const w = values['profile-workload'];
  if (!isWorkload(w)) throw new Error(`--profile-workload takes one of ${WORKLOADS.join(', ')}, not ${w}`);
  return w;
})();
const CONNECTIONS = intArg('connections', values.connections, 1, 2000);
const THREADS = 2;
const WARM_SECONDS = quick ? 1 : 2;
/** Before each measured wrk run through a proxy. */
const REWARM_SECONDS = 1;
const TEST_HOSTS = 1000;
/** One request in this many of the mix goes to a blocked host. */
const MIX_BLOCKED_EVERY = 10;
const HARD_LIMIT_MS = 20 * 60_000;
const SETTLE_MS = 2000;
const CI = process.env.CI === 'true';

const cores = availableParallelism();
const haveTaskset = existsSync('/usr/bin/taskset');
const pinning = cores >= 2 && haveTaskset;
const SERVER_CPU = pinning ? values['server-cpu'] : null;
const LOAD_CPU = pinning ? values['load-cpu'] : null;

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
const round = (n: number, digits = 0) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null);
const log = (line: string) => console.log(line);
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

type ServerKey = 'nginxDirect' | 'haven' | 'squid' | 'squidDstdomain' | 'squidGuard' | 'nodeBaseline';

interface Contender {
  key: ServerKey;
  label: string;
  daemon: Daemon;
  rssKiB: number;
  rssAfterKiB: number;
  checked: boolean;
}

interface Case {
  contender: Contender;
  workload: Workload;
  runs: WrkSummary[];
  cpuSeconds: number;
  /** The main thread's share of cpuSeconds (Node's event loop; the rest is worker threads and libuv's pool). */
  mainThreadCpuSeconds: number;
  wallSeconds: number;
  busy: number[][];
  /** Requests wrk counted, warm-up included (for the event check). */
  requests: number;
}

/** The commit measured, and whether the working tree differed from it (others work in the same checkout). */
const gitState = (): string | null => {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} with uncommitted changes in src/` : head;
  } catch {
    return null;
  }
};

const main = async () => {
  const t0 = performance.now();
  installCleanup();
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench:proxy: over ${HARD_LIMIT_MS / 60_000} minutes; stopping everything\n`);
    process.exit(124); // the exit handler kills every child
  }, HARD_LIMIT_MS);
  watchdog.unref();

  for (const [bin, what] of [
    [NGINX, 'nginx (nginx-light)'],
    [SQUID, 'squid'],
    [WRK, 'wrk'],
    [UNSHARE, 'unshare (util-linux)'],
  ] as const)
    if (!existsSync(bin)) throw new Error(`bench:proxy needs ${bin}, from Debian's ${what}. Install with: ${INSTALL_HINT}`);
  const haveSquidGuard = existsSync(SQUIDGUARD) && !values['without-squidguard'];
  if (!existsSync(SQUIDGUARD) && CI) throw new Error(`bench:proxy needs ${SQUIDGUARD} when CI=true. Install with: ${INSTALL_HINT}`);
  const notes: string[] = [];
  if (!pinning)
    notes.push(
      haveTaskset ? 'only one CPU: nothing is pinned, and the servers share it with wrk' : 'no taskset (util-linux): nothing is pinned',
    );
  if (!haveSquidGuard)
    notes.push(
      values['without-squidguard']
        ? 'squid + squidGuard left out (--without-squidguard)'
        : `${SQUIDGUARD} is missing: squid + squidGuard is skipped`,
    );
  const loadAverageAtStart = loadavg().map((v) => round(v, 2));

  const work = mkdtempSync(path.join(tmpdir(), 'haven-bench-proxy-'));
  // nginx's worker (www-data) and squid (proxy) read below it.
  chmodSync(work, 0o755);
  const removeWork = () => {
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  };
  process.on('exit', removeWork);
  const running: Daemon[] = [];
  const stopAll = async () => {
    for (const s of running.splice(0).reverse()) await s.stop();
  };
  const stopOne = async (s: Daemon) => {
    const i = running.indexOf(s);
    if (i >= 0) running.splice(i, 1);
    await s.stop();
  };

  try {
    log(
      `bench:proxy: ${DOMAINS.toLocaleString('en-GB')} domains, ${values.profile ? `Haven profiled over one ${SECONDS} s run` : `${RUNS} × ${SECONDS} s runs per case`}, wrk -t${THREADS} -c${CONNECTIONS}, work in ${work}`,
    );
    log(
      `  placement: proxies and the direct nginx on CPU ${SERVER_CPU ?? 'any'}, wrk and the origin on CPU ${LOAD_CPU ?? 'any'}; ${cores} CPUs, load average ${loadAverageAtStart.join(' ')}`,
    );
    for (const n of notes) log(`  note: ${n}`);

    // 1. Data: the list in each server's form, the test hosts, the hosts file, wrk's host files.
    let t = performance.now();
    const names = generateNames(DOMAINS, TEST_HOSTS);
    const allowed = names.allowed;
    const blocked = names.blocked;
    const hostsFile = path.join(work, 'hosts');
    writeHostsFile(hostsFile, [...allowed, ...blocked]);
    const targets: Record<Workload, string> = {
      allowed: path.join(work, 'targets-allowed.txt'),
      mix: path.join(work, 'targets-mix.txt'),
      blocked: path.join(work, 'targets-blocked.txt'),
      tunnels: path.join(work, 'targets-allowed.txt'),
      newTunnels: path.join(work, 'targets-allowed.txt'),
    };
    writeFileSync(targets.allowed, allowed.join('\n') + '\n');
    writeFileSync(targets.blocked, blocked.join('\n') + '\n');
    writeFileSync(
      targets.mix,
      allowed.map((h, i) => (i % MIX_BLOCKED_EVERY === MIX_BLOCKED_EVERY - 1 ? blocked[i]! : h)).join('\n') + '\n',
    );
    const site = path.join(work, 'www');
    writeSite(site);
    const script = path.join(work, 'proxy.lua');
    writeWrkScript(script);
    const domainsFile = path.join(work, 'domains.txt');
    writeFileSync(domainsFile, names.domains.join('\n') + '\n');
    const dstdomain = path.join(work, 'dstdomain.txt');
    writeDstdomainList(dstdomain, names.domains);
    chmodSync(dstdomain, 0o644);
    const havenLists = path.join(work, 'lists');
    writeHavenLists(havenLists, 'bench', names.domains, null);
    log(`  generated the list and hosts in ${elapsed(t)}`);

    t = performance.now();
    const havenDir = path.join(work, 'haven');
    const originPort = await freeTcpPort();
    // squidGuard's compile (not in the profile run) goes on beside Haven's import: both are set-up.
    const squidGuardReady =
      haveSquidGuard && !values.profile ? prepareSquidGuard(path.join(work, 'squidguard'), domainsFile, originPort) : null;
    squidGuardReady?.catch(() => undefined);
    const imported = await prepareHaven(havenDir, havenLists, 'bench');
    log(`  haven lists import: ${imported['distinct domains'] ?? '?'} distinct domains (${elapsed(t)})`);

    // 2. The origin, on the load core.
    const origin = await startNginx(path.join(work, 'nginx'), { port: originPort, root: site, cpus: LOAD_CPU, label: 'origin' });
    running.push(origin);
    const allowedProbe = allowed[0]!;
    const blockedProbe = blocked[0]!;
    const subBlockedProbe = blocked[1]!;

    const settledRss = async (pid: number) => {
      await sleep(SETTLE_MS);
      return treeRssKiB(pid);
    };
    /** Allowed hosts get the page; listed hosts and their sub-domains do not. */
    const check = async (label: string, port: number, blocks: boolean): Promise<boolean> => {
      const a = await httpGet({ host: allowedProbe, originPort, proxyPort: port });
      const b = await httpGet({ host: blockedProbe, originPort, proxyPort: port });
      const s = await httpGet({ host: subBlockedProbe, originPort, proxyPort: port });
      const refused = (x: typeof a) => x !== null && x.status !== 200;
      const ok = a?.status === 200 && (blocks ? refused(b) && refused(s) : b?.status === 200);
      if (!ok) log(`  WARNING: ${label} answered wrongly: ${JSON.stringify({ allowed: a, listed: b, subdomain: s })}`);
      return ok;
    };

    const contenders: Contender[] = [];
    const add = async (key: ServerKey, label: string, start: () => Promise<Daemon>, blocks: boolean, isProxy = true) => {
      const t1 = performance.now();
      const d = await start();
      running.push(d);
      const rssKiB = await settledRss(d.process.pid);
      const checked = isProxy ? await check(label, d.port, blocks) : true;
      contenders.push({ key, label, daemon: d, rssKiB, rssAfterKiB: 0, checked });
      log(`  ${label}: answering ${d.loadSeconds.toFixed(2)} s after start, RSS ${mib(rssKiB)} MiB (${elapsed(t1)})`);
      return d;
    };
    const havenOptions = async (label: string, nodeFlags?: string[]) => ({
      port: await freeTcpPort(),
      hostsFile,
      cpus: SERVER_CPU,
      logFile: path.join(work, `${label}.log`),
      label,
      blockedProbe,
      originPort,
      // CONNECT may reach the origin's port only (443 alone by default, as squid's SSL_ports).
      extraEnv: { HAVEN_PROXY_CONNECT_PORTS: String(originPort) },
      ...(nodeFlags && { nodeFlags }),
    });

    /** One run of a workload against `port` (nginx itself when direct): wrk, or the CONNECT client. */
    const loadOn = (port: number, workload: Workload, direct: boolean, seconds: number) =>
      workload === 'tunnels' || workload === 'newTunnels'
        ? runConnectLoad({
            cpu: LOAD_CPU,
            port,
            mode: direct ? 'direct' : workload === 'tunnels' ? 'kept' : 'new',
            targets: targets[workload],
            originPort,
            path: PAGE_PATH,
            seconds,
            connections: CONNECTIONS,
          })
        : runWrk({
            script,
            cpu: LOAD_CPU,
            port,
            direct,
            targets: targets[workload],
            originPort,
            path: PAGE_PATH,
            seconds,
            threads: THREADS,
            connections: CONNECTIONS,
          });

    if (values.profile) {
      const profDir = path.join(work, 'cpu-prof');
      mkdirSync(profDir, { recursive: true });
      const haven = await startHaven(havenDir, await havenOptions('haven-profile', ['--cpu-prof', `--cpu-prof-dir=${profDir}`]));
      running.push(haven);
      await check('haven', haven.port, true);
      // Long enough for an upstream connection to every test host and the JIT to settle.
      await loadOn(haven.port, PROFILE_WORKLOAD, false, WARM_SECONDS * 3);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      const cpu0 = treeCpuSeconds(haven.process.pid);
      const run = await loadOn(haven.port, PROFILE_WORKLOAD, false, SECONDS);
      const cpuUsed = treeCpuSeconds(haven.process.pid) - cpu0;
      const toUs = Number(process.hrtime.bigint() / 1000n);
      log(
        `    haven (profiled, ${PROFILE_WORKLOAD}): ${Math.round(run.rps).toLocaleString('en-GB')} req/s, ${Math.round(run.requests / cpuUsed).toLocaleString('en-GB')} per CPU-second`,
      );
      await stopOne(haven);
      const prof = mainThreadProfile(profDir);
      if (!prof) throw new Error('Haven wrote no CPU profile');
      const profile: ProfileSummary = summariseProfile(prof, { fromUs, toUs }, 30);
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
          workload: PROFILE_WORKLOAD,
          profiledRps: Math.round(run.rps),
          profiledRpsPerCpuSecond: Math.round(run.requests / cpuUsed),
          profile,
        }),
      );
      return;
    }

    // 3. Every server, loaded side by side (idle ones cost nothing).
    const nginxDirectPort = await freeTcpPort();
    await add(
      'nginxDirect',
      'nginx direct (the limit)',
      () => startNginx(path.join(work, 'nginx'), { port: nginxDirectPort, root: site, cpus: SERVER_CPU, label: 'direct' }),
      false,
      false,
    );
    const squidBase = { hostsFile, cpus: SERVER_CPU, probeHost: allowedProbe, originPort };
    await add(
      'squid',
      'squid, no filtering',
      async () => startSquid(path.join(work, 'squid'), { ...squidBase, port: await freeTcpPort(), label: 'squid', variant: 'plain' }),
      false,
    );
    await add(
      'squidDstdomain',
      'squid + dstdomain ACL',
      async () =>
        startSquid(path.join(work, 'squid'), {
          ...squidBase,
          port: await freeTcpPort(),
          label: 'squid-dstdomain',
          variant: 'dstdomain',
          list: dstdomain,
        }),
      true,
    );
    let squidGuardCompileSeconds: number | null = null;
    if (squidGuardReady) {
      const sg = await squidGuardReady;
      squidGuardCompileSeconds = sg.compileSeconds;
      log(`  squidGuard -C all: ${sg.compileSeconds.toFixed(1)} s`);
      await add(
        'squidGuard',
        'squid + squidGuard',
        async () =>
          startSquid(path.join(work, 'squid'), {
            ...squidBase,
            port: await freeTcpPort(),
            label: 'squid-squidguard',
            variant: 'squidguard',
            list: sg.conf,
          }),
        true,
      );
    }
    await add(
      'nodeBaseline',
      'bare node:http proxy',
      async () =>
        startNodeBaseline({
          port: await freeTcpPort(),
          hostsFile,
          cpus: SERVER_CPU,
          logFile: path.join(work, 'node-baseline.log'),
          probeHost: allowedProbe,
          originPort,
        }),
      false,
    );
    await add('haven', 'haven', async () => startHaven(havenDir, await havenOptions('haven')), true);

    const workloadsOf: Record<ServerKey, Workload[]> = {
      nginxDirect: ['allowed', 'tunnels'],
      squid: ['allowed', 'tunnels', 'newTunnels'],
      nodeBaseline: ['allowed'],
      squidDstdomain: ['allowed', 'mix', 'blocked'],
      squidGuard: ['allowed', 'mix', 'blocked'],
      haven: ['allowed', 'mix', 'blocked', 'tunnels', 'newTunnels'],
    };
    const cases: Case[] = contenders.flatMap((c) =>
      workloadsOf[c.key].map((workload) => ({
        contender: c,
        workload,
        runs: [],
        cpuSeconds: 0,
        mainThreadCpuSeconds: 0,
        wallSeconds: 0,
        busy: [],
        requests: 0,
      })),
    );
    const wrkFor = (c: Case, seconds: number) => loadOn(c.contender.daemon.port, c.workload, c.contender.key === 'nginxDirect', seconds);

    t = performance.now();
    for (const c of cases) c.requests += (await wrkFor(c, WARM_SECONDS)).requests;
    log(`  warmed up every case for ${WARM_SECONDS} s (${elapsed(t)})`);

    const caseLabel = (c: Case) => `${c.contender.label}, ${c.workload}`;
    for (let r = 0; r < RUNS; r++) {
      for (let i = 0; i < cases.length; i++) {
        const c = cases[(i + r) % cases.length]!;
        // A proxy's idle upstream sockets close between its runs (Haven's after 30 s, squid's after 60): open them again
        // first, so no run measures re-connecting to 1,000 hosts because of where it fell in the round.
        if (c.contender.key !== 'nginxDirect' && (c.workload === 'allowed' || c.workload === 'mix' || c.workload === 'blocked'))
          c.requests += (await wrkFor(c, REWARM_SECONDS)).requests;
        const pid = c.contender.daemon.process.pid;
        const cpuBefore = treeCpuSeconds(pid);
        const mainBefore = mainThreadCpuSeconds(pid);
        const statBefore = cpuTimes();
        const w0 = performance.now();
        const run = await wrkFor(c, SECONDS);
        c.wallSeconds += (performance.now() - w0) / 1000;
        c.cpuSeconds += treeCpuSeconds(pid) - cpuBefore;
        c.mainThreadCpuSeconds += mainThreadCpuSeconds(pid) - mainBefore;
        c.busy.push(busyShare(statBefore, cpuTimes()));
        c.runs.push(run);
        c.requests += run.requests;
        log(
          `    round ${r + 1} ${caseLabel(c)}: ${Math.round(run.rps).toLocaleString('en-GB')} req/s, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms, ≥400 ${run.statusErrors}, socket errors ${run.socketErrors}; CPUs busy ${c.busy.at(-1)!.join('/')} %`,
        );
      }
    }
    for (const c of contenders) c.rssAfterKiB = treeRssKiB(c.daemon.process.pid);

    // Every request Haven answered should be an event in its database (the sink flushes on stop).
    const havenC = contenders.find((c) => c.key === 'haven');
    let havenEvents: { logged: number; requestsCounted: number; tunnelRequestsCounted: number } | null = null;
    for (const c of [...contenders]) await stopOne(c.daemon);
    if (havenC) {
      try {
        const db = new Database(path.join(havenDir, 'haven.db'), { readonly: true });
        const row = db.prepare('SELECT count(*) AS n FROM filter_event').get() as { n: number };
        db.close();
        // One event per request, and one per tunnel (not per request inside a kept tunnel).
        const mine = cases.filter((c) => c.contender === havenC);
        const requestsCounted = mine.filter((c) => c.workload !== 'tunnels').reduce((s, c) => s + c.requests, 0);
        const tunnelRequestsCounted = mine.filter((c) => c.workload === 'tunnels').reduce((s, c) => s + c.requests, 0);
        havenEvents = { logged: row.n, requestsCounted, tunnelRequestsCounted };
        log(
          `  haven logged ${row.n.toLocaleString('en-GB')} events for ${requestsCounted.toLocaleString('en-GB')} requests and new tunnels the clients counted (+ probes, kept tunnels and requests in flight when a run ended)`,
        );
      } catch (e) {
        log(`  could not count Haven's events: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    await stopAll();

    // 4. Report.
    const serverCore = SERVER_CPU === null ? -1 : Number(SERVER_CPU);
    const medianRun = (c: Case) => [...c.runs].sort((a, b) => a.rps - b.rps)[Math.floor((c.runs.length - 1) / 2)]!;
    const figures = (c: Case) => {
      const m = medianRun(c);
      const total = c.runs.reduce((s, x) => s + x.requests, 0);
      const cpuPercent = Math.round((100 * c.cpuSeconds) / Math.max(c.wallSeconds, 1e-9));
      const busy = c.busy[0]!.map((_, i) => Math.round(c.busy.reduce((s, b) => s + b[i]!, 0) / c.busy.length));
      return {
        rps: Math.round(m.rps),
        p50Ms: round(m.p50Ms, 2),
        p99Ms: round(m.p99Ms, 2),
        rpsPerCpuSecond: Math.round(total / Math.max(c.cpuSeconds, 1e-9)),
        runsRps: c.runs.map((x) => Math.round(x.rps)),
        p90Ms: round(m.p90Ms, 2),
        maxMs: round(m.maxMs, 1),
        mibPerSecond: round(m.mibPerSecond, 1),
        refusedPerRun: c.runs.map((x) => x.statusErrors),
        socketErrorsPerRun: c.runs.map((x) => x.socketErrors),
        serverCpuPercent: cpuPercent,
        mainThreadSharePercent: Math.round((100 * c.mainThreadCpuSeconds) / Math.max(c.cpuSeconds, 1e-9)),
        coreBusyPercent: busy,
        otherLoadOnServerCorePercent: serverCore < 0 ? null : Math.max(0, busy[serverCore]! - cpuPercent),
      };
    };
    type Figures = ReturnType<typeof figures>;
    const out: Partial<Record<ServerKey, Record<string, unknown>>> = {};
    const figs: Partial<Record<ServerKey, Partial<Record<Workload, Figures>>>> = {};
    for (const c of contenders) {
      const mine: Partial<Record<Workload, Figures>> = {};
      for (const k of cases.filter((x) => x.contender === c)) mine[k.workload] = figures(k);
      figs[c.key] = mine;
      out[c.key] = {
        ...mine,
        rssMiB: mib(c.rssKiB),
        rssAfterRunsMiB: mib(c.rssAfterKiB),
        answeringAfterSeconds: round(c.daemon.loadSeconds, 2),
        answersChecked: c.checked,
      };
    }
    const ratio = (a: ServerKey, b: ServerKey, w: Workload, bw: Workload = w, perCpu = false) => {
      const x = figs[a]?.[w];
      const y = figs[b]?.[bw];
      if (!x || !y) return null;
      return perCpu ? round(x.rpsPerCpuSecond / y.rpsPerCpuSecond, 2) : round(x.rps / y.rps, 2);
    };
    const ratiosTo = (b: ServerKey, perCpu = false) => {
      const r: Partial<Record<Workload, number | null>> = {};
      for (const w of WORKLOADS) {
        const tunnel = w === 'tunnels' || w === 'newTunnels';
        // nginx direct and plain squid serve every request: each of Haven's wrk workloads is compared with their
        // one; a tunnel workload with nginx's straight (no-CONNECT) run of the same client, or squid's same workload.
        const bw =
          b === 'nginxDirect' ? (tunnel ? 'tunnels' : 'allowed') : (b === 'squid' || b === 'nodeBaseline') && !tunnel ? 'allowed' : w;
        const v = ratio('haven', b, w, bw, perCpu);
        if (v !== null) r[w] = v;
      }
      return r;
    };

    log('');
    log(
      `${'server, workload'.padEnd(34)}${'req/s'.padStart(9)}${'req/CPU-s'.padStart(11)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'≥400'.padStart(8)}${'RSS MiB'.padStart(9)}${'cpu %'.padStart(7)}${'other %'.padStart(8)}${'main %'.padStart(8)}`,
    );
    for (const c of cases) {
      const f = figures(c);
      log(
        `${caseLabel(c).padEnd(34)}${f.rps.toLocaleString('en-GB').padStart(9)}${f.rpsPerCpuSecond.toLocaleString('en-GB').padStart(11)}${(f.p50Ms ?? 0).toFixed(2).padStart(8)}${(f.p99Ms ?? 0).toFixed(2).padStart(8)}${String(medianRun(c).statusErrors).padStart(8)}${mib(c.contender.rssAfterKiB).toFixed(1).padStart(9)}${String(f.serverCpuPercent).padStart(7)}${(f.otherLoadOnServerCorePercent === null ? '–' : String(f.otherLoadOnServerCorePercent)).padStart(8)}${String(f.mainThreadSharePercent).padStart(8)}`,
      );
    }
    log(
      `  req/s: median of ${RUNS} × ${SECONDS} s runs (wrk -t${THREADS} -c${CONNECTIONS}); p50/p99 of that run, at full load; req/CPU-s: responses per CPU-second the server's process tree used;`,
    );
    log(
      '  ≥400: responses refused in the median run (blocks); RSS after the runs; cpu %: server CPU per wall second; other %: the rest of its core’s busy time;',
    );
    log('  main %: the main thread’s share of the server’s CPU time (for Haven the rest is its event writer thread and libuv’s pool)');
    const ratios = {
      havenToNginxDirect: ratiosTo('nginxDirect'),
      havenToSquid: ratiosTo('squid'),
      havenToSquidDstdomain: ratiosTo('squidDstdomain'),
      havenToSquidGuard: ratiosTo('squidGuard'),
      havenToNodeBaseline: ratiosTo('nodeBaseline'),
      perCpuSecond: {
        havenToNodeBaseline: ratiosTo('nodeBaseline', true),
        havenToNginxDirect: ratiosTo('nginxDirect', true),
        havenToSquid: ratiosTo('squid', true),
        havenToSquidDstdomain: ratiosTo('squidDstdomain', true),
        havenToSquidGuard: ratiosTo('squidGuard', true),
      },
    };
    const fmt = (r: Partial<Record<Workload, number | null>>) =>
      Object.entries(r)
        .map(([w, v]) => `${w} ${v === null ? '–' : `${v}×`}`)
        .join(', ');
    log(`  haven ÷ nginx direct: ${fmt(ratios.havenToNginxDirect)}`);
    log(`  haven ÷ squid (no filtering): ${fmt(ratios.havenToSquid)}`);
    log(`  haven ÷ squid + dstdomain: ${fmt(ratios.havenToSquidDstdomain)}`);
    if (haveSquidGuard) log(`  haven ÷ squid + squidGuard: ${fmt(ratios.havenToSquidGuard)}`);
    log(`  haven ÷ bare node:http proxy: ${fmt(ratios.havenToNodeBaseline)}`);
    const sgAllowed = ratios.havenToSquidGuard.allowed;
    const sqAllowed = ratios.havenToSquid.allowed;
    const hp99 = figs.haven?.allowed?.p99Ms;
    const sp99 = figs.squid?.allowed?.p99Ms;
    if (sgAllowed !== undefined && sgAllowed !== null && sqAllowed !== undefined && sqAllowed !== null)
      log(
        `  target (allowed): ≥ 2× squid + squidGuard (${sgAllowed}×), ahead of plain squid (${sqAllowed}×) with lower p99 (${hp99} vs ${sp99} ms): ${sgAllowed >= 2 && sqAllowed >= 1 && (hp99 ?? Infinity) < (sp99 ?? 0) ? 'met' : 'NOT met'}`,
      );
    const others = cases.map((c) => figures(c).otherLoadOnServerCorePercent ?? 0);
    if (Math.max(...others) > 15)
      log(
        '  WARNING: other processes used the server core during the runs: req/s are depressed and noisy; req/CPU-s is the steadier comparison',
      );
    if (contenders.some((c) => !c.checked)) log('  WARNING: a server answered the probes wrongly (see above)');
    log(`done in ${elapsed(t0)}`);
    console.log(
      JSON.stringify({
        domains: DOMAINS,
        havenDistinctDomains: Number(imported['distinct domains'] ?? Number.NaN) || null,
        testHosts: TEST_HOSTS,
        mixBlockedShare: 1 / MIX_BLOCKED_EVERY,
        runs: RUNS,
        seconds: SECONDS,
        threads: THREADS,
        connections: CONNECTIONS,
        serverCpu: SERVER_CPU,
        loadCpu: LOAD_CPU,
        ...out,
        ...ratios,
        squidGuardCompileSeconds: round(squidGuardCompileSeconds ?? Number.NaN, 1),
        havenEvents,
        loadAverage: { start: loadAverageAtStart, end: loadavg().map((v) => round(v, 2)) },
        havenCommit: gitState(),
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
