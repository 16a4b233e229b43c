/**
 * Child processes for the DNS benchmark: every one is recorded by PID when started and stopped by
 * that PID (SIGTERM, then SIGKILL after a grace period). Whatever is still running when the
 * benchmark exits — normally, on an error, or on SIGINT/SIGTERM/SIGHUP — gets SIGKILL from an exit
 * handler, so a failed run leaves no daemon behind. Nothing is ever signalled by name.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, openSync, readFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';

export interface Tracked {
  name: string;
  pid: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** True once the process has exited. */
  done(): boolean;
}

const live = new Map<number, Tracked>();

const killAllNow = () => {
  for (const t of live.values()) {
    try {
      process.kill(t.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
};

let handlersInstalled = false;
/** Installs the exit and signal handlers (once). */
export const installCleanup = (): void => {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping ${live.size} child process(es)\n`);
      killAllNow();
      process.exit(130);
    });
  }
};

/** Spawns and records a process; stdout/stderr go to `logFile` (or are ignored). */
export const startProcess = (
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; logFile?: string; cwd?: string } = {},
): Tracked => {
  installCleanup();
  const fd = options.logFile ? openSync(options.logFile, 'a') : null;
  const spawnOptions: SpawnOptions = {
    stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  };
  const child = spawn(command, args, spawnOptions);
  if (fd !== null) closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const pid = child.pid;
  let finished = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      finished = true;
      live.delete(pid);
      resolve(code);
    });
    child.once('error', () => {
      finished = true;
      live.delete(pid);
      resolve(null);
    });
  });
  const tracked: Tracked = { name, pid, child, exited, done: () => finished };
  live.set(pid, tracked);
  return tracked;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
export const stopProcess = async (t: Tracked | null | undefined, graceMs = 10_000): Promise<void> => {
  if (!t || t.done()) return;
  try {
    process.kill(t.pid, 'SIGTERM');
  } catch {
    return;
  }
  const gone = await Promise.race([t.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!gone) {
    try {
      process.kill(t.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await t.exited;
  }
};

/**
 * Runs a command to completion, capturing stdout (and stderr) as text; SIGKILL after `timeoutMs`.
 * The process is tracked like any other while it runs.
 */
export const runCaptured = async (
  name: string,
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> => {
  installCleanup();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const pid = child.pid;
  let finished = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      finished = true;
      live.delete(pid);
      resolve(code);
    });
  });
  live.set(pid, { name, pid, child, exited, done: () => finished });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, options.timeoutMs);
  try {
    const code = await exited;
    return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut };
  } finally {
    clearTimeout(timer);
  }
};

const childrenOf = (p: number): number[] => {
  try {
    return readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/** `pid` and every live descendant (DNS workers are children of the primary). */
const processTree = (pid: number): number[] => {
  const all: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    all.push(p);
    stack.push(...childrenOf(p));
  }
  return all;
};

/** VmRSS of a process and its descendants, in KiB (0 when it is gone). */
export const treeRssKiB = (pid: number): number => {
  const rss = (p: number) => {
    try {
      const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  return processTree(pid).reduce((sum, p) => sum + rss(p), 0);
};

/** CPU time (user + system) so far of a process and its live descendants, in seconds. */
export const cpuSeconds = (pid: number): number => {
  const one = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return 0;
    }
  };
  return processTree(pid).reduce((sum, p) => sum + one(p), 0);
};

const RCODES: Readonly<Record<number, string>> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };

export interface ProbeAnswer {
  rcode: string;
  addresses: string[];
}

/** One A question over UDP; null when nothing answers within `timeoutMs`. */
export const probe = (port: number, name: string, timeoutMs = 1000): Promise<ProbeAnswer | null> =>
  new Promise((resolve) => {
    const socket = createSocket('udp4');
    const id = Math.floor(Math.random() * 65536);
    const finish = (answer: ProbeAnswer | null) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on('error', () => finish(null));
    socket.on('message', (msg) => {
      try {
        const r = dnsPacket.decode(msg);
        if (r.id !== id) return;
        finish({
          rcode: RCODES[(r.flags ?? 0) & 0x0f] ?? `RCODE${(r.flags ?? 0) & 0x0f}`,
          addresses: (r.answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : [])),
        });
      } catch {
        finish(null);
      }
    });
    socket.send(
      dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }),
      port,
      '127.0.0.1',
    );
  });

/**
 * Polls until `ready(answer)` holds for `name`, the process dies, or `timeoutMs` passes. Returns
 * the seconds it took.
 */
export const waitUntilAnswers = async (
  t: Tracked,
  port: number,
  name: string,
  ready: (a: ProbeAnswer) => boolean,
  timeoutMs: number,
): Promise<number> => {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (t.done()) throw new Error(`${t.name} exited before it answered`);
    const a = await probe(port, name, 500);
    if (a && ready(a)) return (performance.now() - started) / 1000;
    await sleep(100);
  }
  throw new Error(`${t.name} did not answer ${name} as expected within ${timeoutMs / 1000} s`);
};

export { sleep };
