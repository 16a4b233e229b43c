/**
 * A real dnsmasq (Debian's dnsmasq-base) on 127.0.0.1, as the upstream resolver for DNS tests:
 * it answers only what the test gives it (`--host-record`, `--cname` …), never the internet.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import { freePort } from './processes.ts';

export const DNSMASQ = '/usr/sbin/dnsmasq';

/** The name every helper-started dnsmasq answers, so a test knows it is up. */
const PROBE = 'probe.haven-test.example';

/** Skip reason when dnsmasq is missing; never a skip under CI=true (the test then fails). */
export const dnsmasqSkip = (): string | false =>
  existsSync(DNSMASQ) || process.env.CI === 'true' ? false : `needs ${DNSMASQ} (Debian dnsmasq-base)`;

export interface RunningDnsmasq {
  port: number;
  /** "127.0.0.1:port", as HAVEN_DNS_UPSTREAM. */
  address: string;
  process: ChildProcess;
}

const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(false);
    }, 200);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve((dnsPacket.decode(msg).answers ?? []).length > 0);
    });
    const query = dnsPacket.encode({ type: 'query', id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: PROBE }] });
    socket.send(query, port, '127.0.0.1');
  });

/** Starts dnsmasq with these extra options and resolves once it answers (5 s at most). */
export const startDnsmasq = async (records: readonly string[]): Promise<RunningDnsmasq> => {
  const port = await freePort();
  const proc = spawn(
    DNSMASQ,
    [
      '--no-daemon',
      '--no-resolv',
      '--no-hosts',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--conf-file=/dev/null',
      '--pid-file=',
      '--log-facility=-',
      `--host-record=${PROBE},192.0.2.254`,
      ...records,
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 25; i++) {
    if (await answers(port)) return { port, address: `127.0.0.1:${port}`, process: proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error('dnsmasq did not start');
};
