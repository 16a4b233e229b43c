/**
 * Risk analysis benchmark: `npm run bench:analysis -- [--seconds N]`.
 *
 * Runs the labelled corpus (test-fixtures/analysis/corpus.tsv: searches, URLs, titles, evasions,
 * benign look-alikes) through the normaliser alone, then through the whole analyser (normaliser
 * + lexicons + scoring), over and over on one thread for a bounded time each (default 3 s after
 * a 0.5 s warm-up). Prints human lines, then as its last line one JSON object:
 *
 *   queries (distinct inputs), terms (loaded), normalisePerSecond, analysePerSecond (by wall
 *   time), analysePerCpuSecond (by this process's CPU time), analyseBestPassPerSecond (the
 *   fastest single pass over the corpus: what one quiet core does, the steadiest figure when
 *   other work shares the machine), meanMicroseconds, p99Microseconds (per query, over passes),
 *   seconds.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadAnalyser } from '../src/app/lexicon-files.ts';
import { normalise, RISK_CATEGORIES } from '../src/pipeline/index.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
if (!(seconds > 0 && seconds <= 60)) throw new Error(`--seconds takes 0 to 60, not ${values.seconds}`);

const corpusFile = path.join(import.meta.dirname, '..', 'test-fixtures', 'analysis', 'corpus.tsv');
const queries = readFileSync(corpusFile, 'utf8')
  .split('\n')
  .filter((l) => l !== '' && !l.startsWith('# '))
  .map((l) => l.split('\t')[0]!);
const analyser = loadAnalyser();
const terms = RISK_CATEGORIES.reduce((n, c) => n + analyser.termCounts[c], 0);

let sink = 0;
const run = (fn: (q: string) => number, budget: number) => {
  const batchTimes: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(budget * 1e9));
  let done = 0;
  for (let now = start; now < end;) {
    const t0 = now;
    for (const q of queries) sink += fn(q);
    done += queries.length;
    now = process.hrtime.bigint();
    batchTimes.push(Number(now - t0) / 1e3 / queries.length);
  }
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  batchTimes.sort((a, b) => a - b);
  return {
    perSecond: Math.round(done / wall),
    perCpuSecond: Math.round(done / ((cpu.user + cpu.system) / 1e6)),
    bestPassPerSecond: Math.round(1e6 / batchTimes[0]!),
    meanMicroseconds: Number(((wall * 1e6) / done).toFixed(2)),
    p99Microseconds: Number(batchTimes[Math.min(batchTimes.length - 1, Math.floor(batchTimes.length * 0.99))]!.toFixed(2)),
    seconds: Number(wall.toFixed(2)),
  };
};

const normaliseOnly = (q: string) => normalise(q).length;
const analyse = (q: string) => analyser.analyse(q).severity;
run(normaliseOnly, 0.5);
const n = run(normaliseOnly, seconds);
console.log(
  `normaliser:            ${n.perSecond.toLocaleString('en-GB')} queries/s (${n.perCpuSecond.toLocaleString('en-GB')} per CPU-second)`,
);
run(analyse, 0.5);
const a = run(analyse, seconds);
console.log(
  `normaliser + lexicons: ${a.perSecond.toLocaleString('en-GB')} queries/s (${a.perCpuSecond.toLocaleString('en-GB')} per CPU-second), mean ${a.meanMicroseconds} µs, p99 of batches ${a.p99Microseconds} µs`,
);
console.log(`  fastest pass over the corpus: ${a.bestPassPerSecond.toLocaleString('en-GB')} queries/s`);
console.log(`  ${queries.length} distinct corpus queries, ${terms} terms; target 200,000/s on one core`);
if (sink === -1) console.log('');
console.log(
  JSON.stringify({
    queries: queries.length,
    terms,
    normalisePerSecond: n.perSecond,
    analysePerSecond: a.perSecond,
    analysePerCpuSecond: a.perCpuSecond,
    analyseBestPassPerSecond: a.bestPassPerSecond,
    meanMicroseconds: a.meanMicroseconds,
    p99Microseconds: a.p99Microseconds,
    seconds: a.seconds,
  }),
);
