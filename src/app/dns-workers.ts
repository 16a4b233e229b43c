/**
 * Several DNS filter processes on one port, so every core answers questions: `haven serve --role
 * dns` with HAVEN_DNS_WORKERS=N forks N workers (node:cluster) that share the UDP and TCP sockets
 * the first bind makes; the kernel hands each datagram to one of them. Each worker is a whole DNS
 * role — its own cache, decisions, identity directory and event writer — so nothing is shared on
 * the hot path. The primary only supervises: a worker that dies is started again (at most five
 * times a minute), and SIGTERM/SIGINT stop every worker, each flushing its events, before the
 * primary exits. Node 20 cannot share one UDP port between threads, hence processes.
 */
import cluster, { type Worker } from 'node:cluster';

const RESTARTS_PER_MINUTE = 5;

export const superviseDnsWorkers = (count: number, report: (message: string) => void): Promise<never> =>
  new Promise(() => {
    let stopping = false;
    const restarts: number[] = [];
    const fork = (): Worker => cluster.fork({ HAVEN_DNS_WORKER: '1' });
    for (let i = 0; i < count; i++) fork();
    report(`DNS filter: ${count} worker processes share the DNS port (HAVEN_DNS_WORKERS)`);
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
        return;
      }
      const now = Date.now();
      while (restarts.length > 0 && now - restarts[0]! > 60_000) restarts.shift();
      if (restarts.length >= RESTARTS_PER_MINUTE) {
        report(`DNS worker ${worker.process.pid} stopped (${signal ?? code}); too many restarts this minute, stopping Haven`);
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
        process.exitCode = 1;
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1);
        return;
      }
      restarts.push(now);
      report(`DNS worker ${worker.process.pid} stopped (${signal ?? code}); starting another`);
      fork();
    });
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      report(`Received ${signal}, stopping the DNS workers…`);
      const workers = Object.values(cluster.workers ?? {});
      if (workers.length === 0) process.exit(0);
      for (const w of workers) w?.process.kill('SIGTERM');
      // A worker that does not stop within 15 s is killed; its unflushed events are in its spool.
      setTimeout(() => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      }, 15_000).unref();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

export const isDnsWorker = (): boolean => cluster.isWorker;
