/**
 * dnsperf (Debian's dnsperf 2.10) for the DNS benchmark: a run, its summary parsed, and — from
 * the verbose mode's one line per answer, since 2.10 has no latency histogram — latency
 * percentiles. The load generator is pinned with taskset like the servers.
 */
import { runCaptured } from './dns-processes.ts';

export const DNSPERF = '/usr/bin/dnsperf';

export interface PerfSummary {
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  avgLatencyMs: number;
  runSeconds: number;
  rcodes: Record<string, number>;
}

export interface LatencySummary {
  answers: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface PerfRun {
  /** taskset CPU list for dnsperf, or null for no pinning. */
  cpu: string | null;
  port: number;
  file: string;
  seconds?: number;
  /** Passes over the file (-n). */
  passes?: number;
  clients: number;
  outstanding: number;
  /** -Q: a fixed rate (queries a second). */
  rate?: number;
  verbose?: boolean;
}

const argsFor = (run: PerfRun): string[] => {
  const a = ['-s', '127.0.0.1', '-p', String(run.port), '-d', run.file, '-c', String(run.clients), '-q', String(run.outstanding)];
  if (run.seconds !== undefined) a.push('-l', String(run.seconds));
  if (run.passes !== undefined) a.push('-n', String(run.passes));
  if (run.rate !== undefined) a.push('-Q', String(run.rate));
  if (run.verbose) a.push('-v');
  a.push('-O', 'suppress=timeouts,congestion');
  return run.cpu === null ? [DNSPERF, ...a] : ['taskset', '-c', run.cpu, DNSPERF, ...a];
};

const num = (text: string, re: RegExp): number => {
  const m = re.exec(text);
  return m ? Number(m[1]) : Number.NaN;
};

export const parseSummary = (text: string): PerfSummary => {
  const rcodes: Record<string, number> = {};
  const codes = /Response codes:\s+(.*)/.exec(text)?.[1] ?? '';
  for (const m of codes.matchAll(/([A-Z]+) (\d+)/g)) rcodes[m[1]!] = Number(m[2]);
  return {
    sent: num(text, /Queries sent:\s+(\d+)/),
    completed: num(text, /Queries completed:\s+(\d+)/),
    lost: num(text, /Queries lost:\s+(\d+)/),
    qps: num(text, /Queries per second:\s+([\d.]+)/),
    avgLatencyMs: num(text, /Average Latency \(s\):\s+([\d.]+)/) * 1000,
    runSeconds: num(text, /Run time \(s\):\s+([\d.]+)/),
    rcodes,
  };
};

/** Percentiles of the per-answer latencies dnsperf -v prints ("> NOERROR name A 0.000123"). */
export const latencyFromVerbose = (text: string): LatencySummary => {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('> ')) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) values.push(v * 1000);
  }
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!);
  return {
    answers: sorted.length,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
};

export const runDnsperf = async (run: PerfRun): Promise<{ summary: PerfSummary; latency: LatencySummary | null; output: string }> => {
  const [command, ...args] = argsFor(run);
  const limit = (run.seconds ?? 60) + 30;
  const r = await runCaptured('dnsperf', command!, args, { timeoutMs: limit * 1000 });
  if (r.timedOut) throw new Error(`dnsperf did not finish within ${limit} s`);
  if (r.code !== 0) throw new Error(`dnsperf failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  const summary = parseSummary(r.stdout);
  if (!Number.isFinite(summary.qps)) throw new Error(`could not read dnsperf's summary:\n${r.stdout.slice(-2000)}`);
  const output = run.verbose ? r.stdout.slice(r.stdout.indexOf('Statistics:')) : r.stdout;
  return { summary, latency: run.verbose ? latencyFromVerbose(r.stdout) : null, output };
};
