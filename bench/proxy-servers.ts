/**
 * The processes of the proxy benchmark (bench/proxy.ts), each a real daemon on 127.0.0.1 started
 * in the foreground under `taskset`, recorded by PID and stopped by it (bench/dns-processes.ts):
 *
 * - nginx (Debian's nginx-light) as the origin: one worker, no access log, a 645-byte page, as
 *   ../shared/bench-peers/conf/nginx.conf.in, but `master_process off` so that its PID is all of it;
 *   a second instance is the "direct" limit.
 * - squid 5 in three variants: no filtering, the blocklist as a `dstdomain` ACL, and squidGuard
 *   (Berkeley DB compiled from the same list) as its `url_rewrite_program`. Names resolve only
 *   from squid's `hosts_file`, so nothing leaves the box.
 * - Haven: `haven serve --role proxy` on a prepared data folder (bench/dns-servers.ts
 *   `prepareHaven`), inside a private mount namespace (`unshare -m`) where the benchmark's hosts
 *   file is bind-mounted over /etc/hosts: Haven resolves upstream names with the system resolver,
 *   as in production, and the real /etc/hosts is never touched.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { runCaptured, sleep, startProcess, stopProcess, type Tracked } from './dns-processes.ts';
import { havenEnv } from './dns-servers.ts';

export const NGINX = '/usr/sbin/nginx';
export const SQUID = '/usr/sbin/squid';
export const SQUIDGUARD = '/usr/bin/squidGuard';
export const WRK = '/usr/bin/wrk';
export const UNSHARE = '/usr/bin/unshare';
export const INSTALL_HINT = 'sudo apt-get install -y nginx-light squid squidguard wrk (Debian 12; drop sudo when root)';

const REPO = path.resolve(import.meta.dirname, '..');
const HAVEN_BIN = path.join(REPO, 'bin', 'haven.mjs');

/** The origin's small page: 645 bytes, as the baselines' index.html. */
export const PAGE_PATH = '/index.html';
export const BLOCKED_PAGE_PATH = '/blocked.html';

export interface Daemon {
  name: string;
  port: number;
  process: Tracked;
  /** Exec to the first correct answer, in seconds. */
  loadSeconds: number;
  stop(): Promise<void>;
}

/** `taskset -c CPUS command args…`, or the bare command when cpus is null. */
export const pinned = (cpus: string | null, command: string, args: readonly string[]): [string, string[]] =>
  cpus === null ? [command, [...args]] : ['taskset', ['-c', cpus, command, ...args]];

export interface HttpAnswer {
  status: number;
  bytes: number;
}

/**
 * One GET; through the proxy at `proxyPort` (absolute-form target) when given, else straight to
 * `originPort`. Null when nothing answers within `timeoutMs`.
 */
export const httpGet = (options: {
  host: string;
  originPort: number;
  proxyPort?: number;
  timeoutMs?: number;
}): Promise<HttpAnswer | null> =>
  new Promise((resolve) => {
    const viaProxy = options.proxyPort !== undefined;
    const req = http.request({
      host: '127.0.0.1',
      port: viaProxy ? options.proxyPort : options.originPort,
      method: 'GET',
      path: viaProxy ? `http://${options.host}:${options.originPort}${PAGE_PATH}` : PAGE_PATH,
      headers: { host: `${options.host}:${options.originPort}` },
      agent: false,
      timeout: options.timeoutMs ?? 2000,
    });
    let bytes = 0;
    req.on('response', (res) => {
      res.on('data', (b: Buffer) => (bytes += b.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });

/** Polls `ready` until it holds, the process dies, or `timeoutMs` passes; returns the seconds it took. */
const logTail = (file: string): string => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
};

const waitFor = async (proc: Tracked, ready: () => Promise<boolean>, timeoutMs: number, what: string, logFile: string): Promise<number> => {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (proc.done()) throw new Error(`${proc.name} exited before it ${what}; the end of ${logFile}:\n${logTail(logFile)}`);
    if (await ready()) return (performance.now() - t0) / 1000;
    await sleep(100);
  }
  throw new Error(`${proc.name} did not ${what} within ${timeoutMs / 1000} s`);
};

const daemon = async (
  name: string,
  port: number,
  proc: Tracked,
  ready: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  logFile: string,
) => {
  try {
    const loadSeconds = await waitFor(proc, ready, timeoutMs, what, logFile);
    return { name, port, process: proc, loadSeconds, stop: () => stopProcess(proc) };
  } catch (e) {
    await stopProcess(proc);
    throw e;
  }
};

/** The origin's files: the small page and the page squidGuard redirects blocked requests to. */
export const writeSite = (dir: string): void => {
  mkdirSync(dir, { recursive: true });
  const body = `<html><body>hello ${'x'.repeat(612)}</body></html>\n`;
  writeFileSync(path.join(dir, 'index.html'), body);
  writeFileSync(path.join(dir, 'blocked.html'), '<html><body>Blocked by policy</body></html>\n');
  chmodSync(dir, 0o755);
};

/** nginx: one process, loopback, no access log, keep-alive without limit (the origin, or the direct limit). */
export const startNginx = async (
  dir: string,
  options: { port: number; root: string; cpus: string | null; label: string },
): Promise<Daemon> => {
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const conf = path.join(dir, `${options.label}.conf`);
  writeFileSync(
    conf,
    [
      // One process, no master: stopping it by its PID stops all of it (a killed master would leave its worker running).
      'master_process off;',
      'worker_processes 1;',
      'daemon off;',
      'user www-data;',
      `pid ${path.join(dir, `${options.label}.pid`)};`,
      `error_log ${path.join(dir, `${options.label}-error.log`)} warn;`,
      'events { worker_connections 8192; }',
      'worker_rlimit_nofile 16384;',
      'http {',
      '  access_log off;',
      '  sendfile on;',
      '  tcp_nopush on;',
      '  keepalive_requests 1000000;',
      '  keepalive_timeout 120s;',
      ...['client_body', 'proxy', 'fastcgi', 'scgi', 'uwsgi'].map((t) => `  ${t}_temp_path ${path.join(dir, 'tmp', t)};`),
      '  types { text/html html; }',
      '  default_type application/octet-stream;',
      '  server {',
      `    listen 127.0.0.1:${options.port} default_server;`,
      '    server_name _;',
      `    root ${options.root};`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const [command, args] = pinned(options.cpus, NGINX, ['-c', conf, '-e', path.join(dir, `${options.label}-error.log`)]);
  const proc = startProcess(options.label, command, args, { logFile: path.join(dir, `${options.label}.log`) });
  return daemon(
    options.label,
    options.port,
    proc,
    async () => (await httpGet({ host: 'localhost', originPort: options.port, timeoutMs: 500 }))?.status === 200,
    10_000,
    'served its page',
    path.join(dir, `${options.label}-error.log`),
  );
};

/** /etc/hosts form: every test name (allowed and blocked) at 127.0.0.1. */
export const writeHostsFile = (file: string, hosts: readonly string[]): void => {
  writeFileSync(file, ['127.0.0.1 localhost', ...hosts.map((h) => `127.0.0.1 ${h}`), ''].join('\n'));
  chmodSync(file, 0o644);
};

/** squid's `dstdomain` form: `.domain` matches it and every sub-domain. */
export const writeDstdomainList = (file: string, domains: readonly string[]): void => {
  writeFileSync(file, domains.map((d) => `.${d}\n`).join(''));
};

/** squid and its helpers drop to Debian's `proxy` user when started as root: it must write its logs and read squidGuard's db. */
const proxyIds = (() => {
  try {
    const m = /^proxy:[^:]*:(\d+):(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'));
    return m ? { uid: Number(m[1]), gid: Number(m[2]) } : null;
  } catch {
    return null;
  }
})();
const chownProxy = (p: string) => {
  if (proxyIds === null || process.getuid?.() !== 0) return;
  try {
    chownSync(p, proxyIds.uid, proxyIds.gid);
  } catch {
    // not there (yet)
  }
};

/**
 * squidGuard's database for `domains`: one destination, compiled to Berkeley DB (`squidGuard -C
 * all`); blocked requests get `302` to the origin's block page, as in the baselines.
 */
export const prepareSquidGuard = async (
  dir: string,
  domainsFile: string,
  originPort: number,
): Promise<{ conf: string; compileSeconds: number }> => {
  const db = path.join(dir, 'db', 'bench');
  mkdirSync(db, { recursive: true });
  mkdirSync(path.join(dir, 'log'), { recursive: true });
  writeFileSync(path.join(db, 'domains'), readFileSync(domainsFile));
  const conf = path.join(dir, 'squidGuard.conf');
  writeFileSync(
    conf,
    [
      `dbhome ${path.join(dir, 'db')}`,
      `logdir ${path.join(dir, 'log')}`,
      'dest bench {',
      '  domainlist bench/domains',
      '}',
      'acl {',
      '  default {',
      '    pass !bench all',
      `    redirect 302:http://127.0.0.1:${originPort}${BLOCKED_PAGE_PATH}`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const t0 = performance.now();
  const r = await runCaptured('squidGuard -C', SQUIDGUARD, ['-c', conf, '-C', 'all'], { timeoutMs: 300_000 });
  if (r.code !== 0 || r.timedOut) throw new Error(`squidGuard -C all failed: ${r.stderr.slice(-500)}`);
  const compileSeconds = (performance.now() - t0) / 1000;
  for (const p of [dir, path.join(dir, 'db'), db, path.join(db, 'domains'), path.join(db, 'domains.db'), path.join(dir, 'log')])
    chownProxy(p);
  chownProxy(path.join(dir, 'log', 'squidGuard.log'));
  return { conf, compileSeconds };
};

export type SquidVariant = 'plain' | 'dstdomain' | 'squidguard';

/**
 * squid 5 as ../shared/bench-peers/conf/squid.conf.in: no cache, access log to a file, names only
 * from `hostsFile`, persistent connections both sides; the variant adds the filtering.
 */
export const startSquid = async (
  dir: string,
  options: {
    port: number;
    label: string;
    variant: SquidVariant;
    hostsFile: string;
    cpus: string | null;
    /** dstdomain: the `.domain` file; squidguard: its squidGuard.conf. */
    list?: string;
    squidGuardChildren?: number;
    probeHost: string;
    originPort: number;
  },
): Promise<Daemon> => {
  mkdirSync(dir, { recursive: true });
  chownProxy(dir);
  const label = options.label;
  const extra: string[] = [];
  if (options.variant === 'dstdomain') extra.push(`acl blocked dstdomain "${options.list!}"`, 'http_access deny blocked');
  if (options.variant === 'squidguard') {
    const n = options.squidGuardChildren ?? 8;
    extra.push(
      `url_rewrite_program ${SQUIDGUARD} -c ${options.list!}`,
      `url_rewrite_children ${n} startup=${n} idle=1 concurrency=0`,
      'url_rewrite_bypass off',
    );
  }
  const conf = path.join(dir, `${label}.conf`);
  writeFileSync(
    conf,
    [
      `http_port 127.0.0.1:${options.port}`,
      `visible_hostname bench-${label}`,
      `pid_filename ${path.join(dir, `${label}.pid`)}`,
      `cache_log ${path.join(dir, `${label}-cache.log`)}`,
      `access_log stdio:${path.join(dir, `${label}-access.log`)} squid`,
      `coredump_dir ${dir}`,
      'cache deny all',
      'cache_mem 8 MB',
      `hosts_file ${options.hostsFile}`,
      // Nothing listens on 127.0.0.1:53: no name can be looked up outside the hosts file.
      'dns_nameservers 127.0.0.1',
      'max_filedescriptors 65536',
      'shutdown_lifetime 1 seconds',
      'pinger_enable off',
      'client_persistent_connections on',
      'server_persistent_connections on',
      ...extra,
      'http_access allow localhost',
      'http_access deny all',
      '',
    ].join('\n'),
  );
  const [command, args] = pinned(options.cpus, SQUID, ['-N', '-f', conf]);
  const proc = startProcess(label, command, args, { logFile: path.join(dir, `${label}.log`) });
  return daemon(
    label,
    options.port,
    proc,
    async () =>
      (await httpGet({ host: options.probeHost, originPort: options.originPort, proxyPort: options.port, timeoutMs: 1000 }))?.status ===
      200,
    180_000,
    'forwarded a request',
    path.join(dir, `${label}-cache.log`),
  );
};

/**
 * unshare's arguments to run `command` in a private mount namespace whose /etc/hosts is `hostsFile`
 * (mount --bind, then exec: the PID recorded is the command's own). Needs root.
 */
const withHostsFile = (hostsFile: string, command: string, args: readonly string[]): string[] => [
  '-m',
  '--propagation',
  'private',
  'sh',
  '-c',
  'mount --bind "$0" /etc/hosts && exec "$@"',
  hostsFile,
  command,
  ...args,
];

/** bench/proxy-node-baseline.ts (a bare node:http forward proxy), resolving from `hostsFile` like Haven. */
export const startNodeBaseline = async (options: {
  port: number;
  hostsFile: string;
  cpus: string | null;
  logFile: string;
  probeHost: string;
  originPort: number;
}): Promise<Daemon> => {
  const [command, args] = pinned(options.cpus, process.execPath, [
    '--import',
    'tsx',
    path.join(REPO, 'bench', 'proxy-node-baseline.ts'),
    String(options.port),
  ]);
  const proc = startProcess('node-baseline', UNSHARE, withHostsFile(options.hostsFile, command, args), {
    logFile: options.logFile,
    cwd: REPO,
  });
  return daemon(
    'node-baseline',
    options.port,
    proc,
    async () =>
      (await httpGet({ host: options.probeHost, originPort: options.originPort, proxyPort: options.port, timeoutMs: 1000 }))?.status ===
      200,
    30_000,
    'forwarded a request',
    options.logFile,
  );
};

/**
 * Haven's proxy role on a prepared data folder, with `hostsFile` as its /etc/hosts (private mount
 * namespace). Ready once a listed host is refused: the lists are loaded and the policy compiled.
 */
export const startHaven = async (
  dataDir: string,
  options: {
    port: number;
    hostsFile: string;
    cpus: string | null;
    logFile: string;
    label?: string;
    blockedProbe: string;
    originPort: number;
    /** Flags for node itself (--cpu-prof is not allowed in NODE_OPTIONS). */
    nodeFlags?: string[];
    extraEnv?: Record<string, string>;
  },
): Promise<Daemon> => {
  const label = options.label ?? 'haven';
  const env = havenEnv(dataDir, {
    HAVEN_PROXY_HOST: '127.0.0.1',
    HAVEN_PROXY_PORT: String(options.port),
    // The load is 50 connections from one address: keep the per-client limit in the path, far above it.
    HAVEN_PROXY_MAX_CONNECTIONS_PER_CLIENT: '4096',
    ...options.extraEnv,
  });
  const [command, args] = pinned(options.cpus, process.execPath, [...(options.nodeFlags ?? []), HAVEN_BIN, 'serve', '--role', 'proxy']);
  const proc = startProcess(label, UNSHARE, withHostsFile(options.hostsFile, command, args), { env, logFile: options.logFile, cwd: REPO });
  return daemon(
    label,
    options.port,
    proc,
    async () =>
      (await httpGet({ host: options.blockedProbe, originPort: options.originPort, proxyPort: options.port, timeoutMs: 1000 }))?.status ===
      403,
    300_000,
    'refused a listed host',
    options.logFile,
  );
};
