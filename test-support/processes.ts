/**
 * Starting Haven as a real process for end-to-end tests: a free port, a fresh data directory,
 * waiting for /healthz, and stopping it by PID.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export interface RunningHaven {
  url: string;
  dataDir: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** Runs `haven <args>` from the sources and resolves once /healthz answers (60 s at most). */
export const startHaven = async (args: string[] = ['start'], env: Record<string, string> = {}): Promise<RunningHaven> => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-e2e-'));
  const port = await freePort();
  let out = '';
  let err = '';
  const child = spawn(process.execPath, [path.resolve('bin/haven.mjs'), ...args], {
    env: {
      ...process.env,
      HAVEN_DATA_DIR: dataDir,
      HAVEN_WEB_PORT: String(port),
      HAVEN_HOST: '127.0.0.1',
      HAVEN_DATABASE_URL: '',
      // A free port for the DNS filter, so tests can run side by side; nothing to forward to unless a test says.
      HAVEN_DNS_PORT: '0',
      HAVEN_DNS_UPSTREAM: '127.0.0.1:9',
      HAVEN_PROXY_PORT: '0',
      HAVEN_BLOCK_PAGE_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haven exited early (${child.exitCode}):\n${out}\n${err}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`haven did not answer /healthz within 60 s:\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    dataDir,
    child,
    stdout: () => out,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) {
          rmSync(dataDir, { recursive: true, force: true });
          resolve(child.exitCode);
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          rmSync(dataDir, { recursive: true, force: true });
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
};

/** Runs `haven …` from the sources against a data directory (no lists URL, no extra canaries) and insists it works. */
export const havenCli = (args: string[], dataDir: string): string => {
  const r = spawnSync(process.execPath, [path.resolve('bin/haven.mjs'), ...args], {
    env: { ...process.env, HAVEN_DATA_DIR: dataDir, HAVEN_DATABASE_URL: '', HAVEN_LISTS_URL: '', HAVEN_ILLEGAL_CANARIES: '' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `haven ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

/**
 * Stops a child with SIGTERM and resolves with its exit code: at once if it has already exited
 * (waiting for an 'exit' that has been and gone would hang), SIGKILL after `killAfterMs`.
 */
export const stopChild = (child: ChildProcess, killAfterMs = 20_000): Promise<number | null> => {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
};
