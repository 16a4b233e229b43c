/**
 * Decisions per second on one thread with the default policy plus a timed rule, a place rule,
 * list entries and a live teacher override: a realistic mix of people, hosts and categories.
 * Prints one JSON line. Run: node --import tsx src/core/policy/decide.bench.ts
 */
import { compilePolicy, decide } from './decide.ts';
import { defaultTrustPolicy } from './defaults.ts';
import { resolvePolicy } from './resolve.ts';
import type { ClassificationResult, DecisionRequest, RequestPerson } from './types.ts';

const policy = resolvePolicy(defaultTrustPolicy(), {
  schoolId: 'bench',
  places: [{ id: 'library', label: 'Library', cidrs: ['10.1.0.0/16', '2001:db8:1::/48'] }],
  rules: [
    {
      id: 'lunch',
      description: 'Lunchtime games',
      audience: { kinds: ['pupil'] },
      when: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '12:00', to: '13:00' },
      actions: { games: 'allow' },
    },
    {
      id: 'library',
      description: 'Library streaming',
      audience: { kinds: ['pupil'] },
      places: ['library'],
      actions: { streaming: 'warn' },
    },
  ],
  blockList: [{ pattern: 'tiktok.com' }, { pattern: 'bbc.co.uk/iplayer' }],
  overrides: [
    {
      id: 'o',
      audience: { groups: ['6b'] },
      categories: ['games'],
      startsAt: '2026-03-02T09:00:00Z',
      expiresAt: '2026-03-02T15:00:00Z',
      createdBy: 'bench',
      reason: 'bench',
    },
  ],
});
const compiled = compilePolicy(policy);

const people: (RequestPerson | null)[] = [
  { kind: 'pupil', groups: ['6b'], yearGroup: '6' },
  { kind: 'pupil', groups: ['10x'], yearGroup: '10', flags: ['send'] },
  { kind: 'staff', groups: ['staff'] },
  null,
];
const hosts = ['www.example.com', 'cdn.images.example.co.uk', 'www.tiktok.com', 'ttrockstars.com', 'a.b.c.d.example.org', 'www.bbc.co.uk'];
const categories: ClassificationResult[] = ['games', 'social-networks', null, 'education', 'pornography', 'streaming', 'gambling'].map(
  (category) => ({
    category,
    source: category ? `ut1/${category}` : null,
    illegal: false,
  }),
);
const ips = ['10.1.2.3', '192.168.0.7', '2001:db8:1::5', undefined];

const requests: DecisionRequest[] = [];
for (let i = 0; i < 4096; i++) {
  requests.push({
    host: hosts[i % hosts.length]!,
    url: i % 3 === 0 ? `https://${hosts[i % hosts.length]!}/iplayer/x` : undefined,
    at: new Date(Date.UTC(2026, 2, 2, 8 + (i % 8), (i * 7) % 60)),
    clientIp: ips[i % ips.length],
    person: people[i % people.length],
  });
}

const run = (n: number): number => {
  let blocked = 0;
  for (let i = 0; i < n; i++) {
    if (decide(compiled, requests[i & 4095]!, categories[i % categories.length]!).action === 'block') blocked++;
  }
  return blocked;
};

run(200_000);
const N = 3_000_000;
const start = process.hrtime.bigint();
const blocked = run(N);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ decisions: N, seconds: Number(seconds.toFixed(3)), decisionsPerSecond: Math.round(N / seconds), blocked }));
