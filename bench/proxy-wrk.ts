/**
 * wrk (Debian's wrk 4.1) for the proxy benchmark: a Lua script, written into the work folder,
 * that sends absolute-form GETs through a forward proxy (wrk's URL is the proxy), cycling over a
 * file of host names, or origin-form GETs when it talks to nginx directly; and a run of it,
 * pinned with taskset, whose summary the script prints as one JSON line. Also the runner of the
 * CONNECT load (bench/proxy-connect-client.ts), which prints the same line.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCaptured } from './dns-processes.ts';
import { WRK } from './proxy-servers.ts';

/**
 * Each thread builds its requests once (wrk.format) and starts at its own place in the list, so
 * the connections do not all ask for the same host at once. No response() callback: wrk then
 * parses nothing into Lua and stays cheap; statuses of 400 and above are its `errors.status`.
 */
const SCRIPT = `-- written by bench/proxy-wrk.ts
local targets = os.getenv("BENCH_TARGETS")
local origin_port = os.getenv("BENCH_ORIGIN_PORT")
local page = os.getenv("BENCH_PATH")
local direct = os.getenv("BENCH_DIRECT") == "1"
local threads = 0
local list, count, at = {}, 0, 0

function setup(thread)
  thread:set("index", threads)
  threads = threads + 1
end

function init(args)
  if direct then
    list[1] = wrk.format("GET", page)
  else
    for host in io.lines(targets) do
      if host ~= "" then
        local authority = host .. ":" .. origin_port
        list[#list + 1] = wrk.format("GET", "http://" .. authority .. page, { Host = authority })
      end
    end
  end
  count = #list
  at = ((index or 0) * 397) % count
end

function request()
  at = at % count + 1
  return list[at]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"durationUs":%d,"bytes":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f,' ..
    '"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d}\\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

export const writeWrkScript = (file: string): void => writeFileSync(file, SCRIPT);

export interface WrkSummary {
  requests: number;
  seconds: number;
  rps: number;
  mibPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Responses with status ≥ 400 (blocks from Haven and squid's ACL). */
  statusErrors: number;
  /** Connect, read, write errors and timeouts. */
  socketErrors: number;
}

interface Raw {
  requests: number;
  durationUs: number;
  bytes: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  statusErrors: number;
  timeouts: number;
}

export interface WrkRun {
  script: string;
  /** taskset CPU list for wrk, or null. */
  cpu: string | null;
  /** What wrk connects to: the proxy, or nginx itself when direct. */
  port: number;
  direct: boolean;
  /** One host name a line (ignored when direct). */
  targets: string;
  originPort: number;
  path: string;
  seconds: number;
  threads: number;
  connections: number;
}

export const runWrk = async (run: WrkRun): Promise<WrkSummary> => {
  const args = [
    `-t${run.threads}`,
    `-c${run.connections}`,
    `-d${run.seconds}s`,
    '--timeout',
    '5s',
    '-s',
    run.script,
    `http://127.0.0.1:${run.port}`,
  ];
  const [command, fullArgs] = run.cpu === null ? [WRK, args] : ['taskset', ['-c', run.cpu, WRK, ...args]];
  const env = {
    ...process.env,
    BENCH_TARGETS: run.targets,
    BENCH_ORIGIN_PORT: String(run.originPort),
    BENCH_PATH: run.path,
    BENCH_DIRECT: run.direct ? '1' : '0',
  };
  const limit = run.seconds + 30;
  const r = await runCaptured('wrk', command, fullArgs, { timeoutMs: limit * 1000, env });
  if (r.timedOut) throw new Error(`wrk did not finish within ${limit} s`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH '));
  if (r.code !== 0 || !line) throw new Error(`wrk failed (exit ${r.code}): ${(r.stderr + r.stdout).trim().slice(-800)}`);
  return summarise(JSON.parse(line.slice('BENCH '.length)) as Raw);
};

const summarise = (raw: Raw): WrkSummary => {
  const seconds = raw.durationUs / 1e6;
  return {
    requests: raw.requests,
    seconds,
    rps: raw.requests / seconds,
    mibPerSecond: raw.bytes / seconds / 1048576,
    p50Ms: raw.p50Us / 1000,
    p90Ms: raw.p90Us / 1000,
    p99Ms: raw.p99Us / 1000,
    maxMs: raw.maxUs / 1000,
    meanMs: raw.meanUs / 1000,
    statusErrors: raw.statusErrors,
    socketErrors: raw.connectErrors + raw.readErrors + raw.writeErrors + raw.timeouts,
  };
};

export type ConnectMode = 'kept' | 'new' | 'direct';

/** The CONNECT load (bench/proxy-connect-client.ts) in a pinned child process. */
export const runConnectLoad = async (run: {
  cpu: string | null;
  port: number;
  mode: ConnectMode;
  targets: string;
  originPort: number;
  path: string;
  seconds: number;
  connections: number;
}): Promise<WrkSummary> => {
  const client = path.join(import.meta.dirname, 'proxy-connect-client.ts');
  const args = [
    '--import',
    'tsx',
    client,
    '--port',
    String(run.port),
    '--origin-port',
    String(run.originPort),
    '--hosts',
    run.targets,
    '--connections',
    String(run.connections),
    '--seconds',
    String(run.seconds),
    '--mode',
    run.mode,
    '--path',
    run.path,
  ];
  const [command, fullArgs] = run.cpu === null ? [process.execPath, args] : ['taskset', ['-c', run.cpu, process.execPath, ...args]];
  const limit = run.seconds + 30;
  const r = await runCaptured('connect-client', command, fullArgs, { timeoutMs: limit * 1000 });
  if (r.timedOut) throw new Error(`the CONNECT client did not finish within ${limit} s`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH '));
  if (r.code !== 0 || !line) throw new Error(`the CONNECT client failed (exit ${r.code}): ${(r.stderr + r.stdout).trim().slice(-800)}`);
  return summarise(JSON.parse(line.slice('BENCH '.length)) as Raw);
};
