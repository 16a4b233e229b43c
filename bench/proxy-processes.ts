/**
 * Readings of running processes and CPUs for the proxy benchmark, beside bench/dns-processes.ts
 * (which starts, tracks and stops them): CPU time of a whole process tree (nginx's worker, squid's
 * squidGuard helpers and Haven's threads all count), the busy share of each CPU, and free ports.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/** User + system CPU seconds of one process (all its threads), not its children. */
const ownCpuSeconds = (pid: number, file = `/proc/${pid}/stat`): number => {
  try {
    const stat = readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state (field 3); utime and stime are fields 14 and 15, in clock ticks (100 a second).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
};

/** User + system CPU seconds of a process and its live descendants (each with all its threads). */
export const treeCpuSeconds = (pid: number): number => {
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    total += ownCpuSeconds(p);
    stack.push(...childrenOf(p));
  }
  return total;
};

/** Jiffies per CPU (user … steal) from /proc/stat. */
export const cpuTimes = (): number[][] =>
  readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => l.split(/\s+/).slice(1, 9).map(Number));

/** Busy per cent of each CPU between two readings (idle and iowait count as not busy). */
export const busyShare = (before: number[][], after: number[][]): number[] =>
  after.map((a, i) => {
    const b = before[i] ?? a;
    const d = a.map((v, j) => v - (b[j] ?? v));
    const total = d.reduce((s, v) => s + v, 0);
    const idle = (d[3] ?? 0) + (d[4] ?? 0);
    return total > 0 ? Math.round((100 * (total - idle)) / total) : 0;
  });

/** A TCP port free on 127.0.0.1 just now. */
export const freeTcpPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** CPU seconds of a process's main thread alone (Node: the event loop, without the worker threads and libuv's pool). */
export const mainThreadCpuSeconds = (pid: number): number => ownCpuSeconds(pid, `/proc/${pid}/task/${pid}/stat`);
