/**
 * The servers of the DNS benchmark, each a real process on 127.0.0.1: the shared upstream
 * (dnsmasq answering every name with 192.0.2.1 itself, TTL 1 hour), dnsmasq and unbound as
 * filtering resolvers with the blocklist, and Haven's DNS filter (`haven serve --role dns`).
 * Every one is started in the foreground under `taskset`, recorded by PID, and stopped by it.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCaptured, startProcess, stopProcess, waitUntilAnswers, type ProbeAnswer, type Tracked } from './dns-processes.ts';

export const DNSMASQ = '/usr/sbin/dnsmasq';
export const UNBOUND = '/usr/sbin/unbound';
export const UPSTREAM_ADDRESS = '192.0.2.1';

const REPO = path.resolve(import.meta.dirname, '..');
const HAVEN_BIN = path.join(REPO, 'bin', 'haven.mjs');

export interface Server {
  name: string;
  port: number;
  process: Tracked;
  /** Exec to the first correct answer for a listed name, in seconds. */
  loadSeconds: number;
  stop(): Promise<void>;
}

/** `taskset -c CPUS command args…`, or the bare command when cpus is null. */
const pinned = (cpus: string | null, command: string, args: readonly string[]): [string, string[]] =>
  cpus === null ? [command, [...args]] : ['taskset', ['-c', cpus, command, ...args]];

/** NXDOMAIN: how dnsmasq (local=/x/) and unbound (always_nxdomain) answer a listed name. */
export const isNxdomain = (a: ProbeAnswer): boolean => a.rcode === 'NXDOMAIN';
/** Haven answers a listed name with the block page's address (0.0.0.0 when none is set). */
export const isHavenBlock = (a: ProbeAnswer): boolean => a.rcode === 'NOERROR' && a.addresses.includes('0.0.0.0');
export const isUpstreamAnswer = (a: ProbeAnswer): boolean => a.rcode === 'NOERROR' && a.addresses.includes(UPSTREAM_ADDRESS);

const started = async (
  name: string,
  port: number,
  proc: Tracked,
  probeName: string,
  ready: (a: ProbeAnswer) => boolean,
  timeoutMs: number,
): Promise<Server> => {
  try {
    const loadSeconds = await waitUntilAnswers(proc, port, probeName, ready, timeoutMs);
    return { name, port, process: proc, loadSeconds, stop: () => stopProcess(proc) };
  } catch (e) {
    await stopProcess(proc);
    throw e;
  }
};

/** The shared upstream: dnsmasq answering every A question with 192.0.2.1 (TTL 3600) from itself. */
export const startUpstream = (dir: string, port: number, cpus: string | null): Promise<Server> => {
  mkdirSync(dir, { recursive: true });
  const [command, args] = pinned(cpus, DNSMASQ, [
    '--keep-in-foreground',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--conf-file=/dev/null',
    '--pid-file=',
    '--user=root',
    '--log-facility=-',
    `--address=/#/${UPSTREAM_ADDRESS}`,
    '--local-ttl=3600',
    '--cache-size=0',
    '--dns-forward-max=1000',
  ]);
  const proc = startProcess('upstream (dnsmasq)', command, args, { logFile: path.join(dir, 'upstream.log') });
  return started('upstream', port, proc, 'probe.upstream.test', isUpstreamAnswer, 10_000);
};

export interface PeerOptions {
  port: number;
  upstreamPort: number;
  /** The blocklist file, in the server's own syntax. */
  blocklist: string;
  cpus: string | null;
  /** Asked until `ready` holds for the answer (default: NXDOMAIN, a listed name). */
  probeName: string;
  ready?: (a: ProbeAnswer) => boolean;
  label?: string;
}

/** dnsmasq as a filtering resolver: `local=/domain/` per listed domain (NXDOMAIN for it and below). */
export const writeDnsmasqBlocklist = (file: string, domains: readonly string[]): void => {
  writeFileSync(file, domains.map((d) => `local=/${d}/\n`).join(''));
};

export const startDnsmasq = (dir: string, options: PeerOptions): Promise<Server> => {
  mkdirSync(dir, { recursive: true });
  const label = options.label ?? 'dnsmasq';
  const conf = path.join(dir, `${label}.conf`);
  // As ../shared/bench-peers/conf/dnsmasq.conf.in: forward only to the upstream, 20k-entry cache.
  writeFileSync(
    conf,
    [
      `port=${options.port}`,
      'listen-address=127.0.0.1',
      'bind-interfaces',
      'no-resolv',
      'no-hosts',
      'no-poll',
      'no-negcache',
      `server=127.0.0.1#${options.upstreamPort}`,
      'cache-size=20000',
      'dns-forward-max=1000',
      'user=root',
      'pid-file=',
      'log-facility=-',
      `conf-file=${options.blocklist}`,
      '',
    ].join('\n'),
  );
  const [command, args] = pinned(options.cpus, DNSMASQ, ['--keep-in-foreground', `--conf-file=${conf}`]);
  const proc = startProcess(label, command, args, { logFile: path.join(dir, `${label}.log`) });
  return started(label, options.port, proc, options.probeName, options.ready ?? isNxdomain, 120_000);
};

/** unbound: `local-zone: "domain." always_nxdomain` per listed domain (it and every sub-domain). */
export const writeUnboundBlocklist = (file: string, domains: readonly string[]): void => {
  writeFileSync(file, domains.map((d) => `local-zone: "${d}." always_nxdomain\n`).join(''));
};

export const startUnbound = (dir: string, options: PeerOptions): Promise<Server> => {
  mkdirSync(dir, { recursive: true });
  const label = options.label ?? 'unbound';
  const conf = path.join(dir, `${label}.conf`);
  // As ../shared/bench-peers/conf/unbound.conf.in (one thread, iterator only, the same caches),
  // but forwarding to the upstream (it answers with recursion, like a resolver) instead of a stub zone.
  writeFileSync(
    conf,
    [
      'server:',
      `  interface: 127.0.0.1@${options.port}`,
      `  port: ${options.port}`,
      '  do-ip6: no',
      '  do-daemonize: no',
      '  chroot: ""',
      '  username: ""',
      `  directory: "${dir}"`,
      `  pidfile: "${path.join(dir, `${label}.pid`)}"`,
      '  use-syslog: no',
      '  logfile: ""',
      '  verbosity: 0',
      '  num-threads: 1',
      '  module-config: "iterator"',
      '  do-not-query-localhost: no',
      '  access-control: 127.0.0.0/8 allow',
      '  msg-cache-size: 64m',
      '  rrset-cache-size: 128m',
      '  so-rcvbuf: 4m',
      '  so-sndbuf: 4m',
      '  qname-minimisation: no',
      '  harden-referral-path: no',
      '  prefetch: no',
      `  include: "${options.blocklist}"`,
      'forward-zone:',
      '  name: "."',
      `  forward-addr: 127.0.0.1@${options.upstreamPort}`,
      'remote-control:',
      '  control-enable: no',
      '',
    ].join('\n'),
  );
  const [command, args] = pinned(options.cpus, UNBOUND, ['-d', '-c', conf]);
  const proc = startProcess(label, command, args, { logFile: path.join(dir, `${label}.log`) });
  return started(label, options.port, proc, options.probeName, options.ready ?? isNxdomain, 180_000);
};

/** The environment of every Haven process of the benchmark: its own data folder, SQLite, loopback only. */
export const havenEnv = (dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  // Nothing from the caller's Haven set-up (a database URL, list updates…) leaks in.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HAVEN_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, HAVEN_DATA_DIR: dataDir, HAVEN_DATABASE_URL: '', HAVEN_HOST: '127.0.0.1', HAVEN_LOG_LEVEL: 'warn', ...extra };
};

const havenCli = async (dataDir: string, args: string[], timeoutMs: number): Promise<string> => {
  const r = await runCaptured('haven', process.execPath, [HAVEN_BIN, ...args], { timeoutMs, env: havenEnv(dataDir) });
  if (r.code !== 0 || r.timedOut)
    throw new Error(
      `haven ${args.slice(0, 2).join(' ')} failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${r.stderr.trim().slice(-1000)}`,
    );
  return r.stdout;
};

/**
 * A fresh Haven data folder with one school (the DNS role answers REFUSED without one) and, if
 * `listsDir` is given, its lists imported as UT1-form category lists. Returns the import's summary lines.
 */
export const prepareHaven = async (dataDir: string, listsDir: string | null, source: string): Promise<Record<string, string>> => {
  mkdirSync(dataDir, { recursive: true });
  await havenCli(dataDir, ['school', 'add', '--name', 'Benchmark School'], 120_000);
  if (listsDir === null) return {};
  const out = await havenCli(dataDir, ['lists', 'import', '--from', listsDir, '--source', source, '--reason', 'bench'], 900_000);
  const summary: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([a-z ]+):\s+(.*)$/.exec(line.trim());
    if (m) summary[m[1]!] = m[2]!;
  }
  return summary;
};

/**
 * A lists folder in UT1 form: the synthetic list as `<source>/malware/domains`, beside a copy of
 * the shared category lists' `ut1/` and `extra/` folders when given (the importer skips symlinks).
 */
export const writeHavenLists = (dir: string, source: string, domains: readonly string[], shared: string | null): void => {
  mkdirSync(path.join(dir, source, 'malware'), { recursive: true });
  writeFileSync(path.join(dir, source, 'malware', 'domains'), domains.join('\n') + '\n');
  if (shared === null) return;
  for (const sub of ['ut1', 'extra']) cpSync(path.join(shared, sub), path.join(dir, sub), { recursive: true, dereference: false });
};

export const startHaven = (
  dataDir: string,
  options: {
    port: number;
    upstreamPort: number;
    cpus: string | null;
    probeName: string;
    logFile: string;
    label?: string;
    /** Flags for node itself (--cpu-prof is not allowed in NODE_OPTIONS). */
    nodeFlags?: string[];
    /** HAVEN_DNS_WORKERS: processes sharing the port (default 1). */
    workers?: number;
    ready?: (a: ProbeAnswer) => boolean;
  },
): Promise<Server> => {
  const label = options.label ?? 'haven';
  const env = havenEnv(dataDir, {
    HAVEN_DNS_HOST: '127.0.0.1',
    HAVEN_DNS_PORT: String(options.port),
    HAVEN_DNS_UPSTREAM: `127.0.0.1:${options.upstreamPort}`,
    // Every query comes from 127.0.0.1: a limit far above the load keeps the limiter in the path without throttling.
    HAVEN_DNS_RATE_LIMIT: '1000000',
    HAVEN_DNS_WORKERS: String(options.workers ?? 1),
  });
  const [command, args] = pinned(options.cpus, process.execPath, [...(options.nodeFlags ?? []), HAVEN_BIN, 'serve', '--role', 'dns']);
  const proc = startProcess(label, command, args, { env, logFile: options.logFile, cwd: REPO });
  return started(label, options.port, proc, options.probeName, options.ready ?? isHavenBlock, 300_000);
};
