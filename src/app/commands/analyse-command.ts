/**
 * `haven analyse [--lexicons DIR]`: reads one search query, URL or page title per line on stdin
 * and prints one line per input line, `input<TAB>risk<TAB>severity` (risk: a category of
 * data/lexicons or `none`; severity 0–5). Other tools read this output: keep its shape.
 *
 * Every input line gets exactly one output line, whatever it holds: an empty line is `none 0`,
 * a line longer than 2,048 characters is cut to that (in the echo too), bytes that are not UTF-8
 * become U+FFFD, and tabs and control characters in the echo become spaces so the columns hold.
 * Lines are split on "\n" only ("\r\n" counts as one break), so the count matches `wc -l`.
 */
import type { Command } from 'commander';
import { MAX_INPUT_LENGTH, type Analyser } from '../../pipeline/index.ts';
import { lexiconsDir, loadAnalyser } from '../lexicon-files.ts';

/** Bytes of one line kept before the rest is dropped: 2,048 characters of 4-byte UTF-8. */
const MAX_LINE_BYTES = MAX_INPUT_LENGTH * 4;
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** One output line (no newline) for one input line. */
export const analyseLine = (analyser: Analyser, line: string): string => {
  const input = (line.length > MAX_INPUT_LENGTH ? line.slice(0, MAX_INPUT_LENGTH) : line).replace(CONTROL, ' ');
  const { risk, severity } = analyser.analyse(input);
  return `${input}\t${risk}\t${severity}`;
};

/**
 * Splits a byte stream into lines on "\n" (a "\r" before it is dropped), each at most
 * MAX_LINE_BYTES, decoded as UTF-8 with replacement; a last line without "\n" counts if not empty.
 */
export async function* linesOf(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let parts: Buffer[] = [];
  let kept = 0;
  const take = (chunk: Buffer) => {
    if (kept >= MAX_LINE_BYTES) return;
    const piece = chunk.length > MAX_LINE_BYTES - kept ? chunk.subarray(0, MAX_LINE_BYTES - kept) : chunk;
    parts.push(piece);
    kept += piece.length;
  };
  const finish = (): string => {
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    parts = [];
    kept = 0;
    return decoder.decode(bytes);
  };
  let sawBytes = false;
  for await (const raw of stream) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let from = 0;
    for (let nl = chunk.indexOf(0x0a, from); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
      take(chunk.subarray(from, nl));
      yield finish();
      from = nl + 1;
      sawBytes = false;
    }
    if (from < chunk.length) {
      take(chunk.subarray(from));
      sawBytes = true;
    }
  }
  if (sawBytes) yield finish();
}

/** Runs the command's work: stdin to stdout, batched writes, waiting when stdout is full. */
export const analyseStream = async (
  analyser: Analyser,
  input: AsyncIterable<Buffer | string>,
  output: NodeJS.WritableStream,
): Promise<number> => {
  let batch: string[] = [];
  let count = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const text = batch.join('\n') + '\n';
    batch = [];
    if (!output.write(text)) await new Promise<void>((resolve) => output.once('drain', resolve));
  };
  for await (const line of linesOf(input)) {
    batch.push(analyseLine(analyser, line));
    count++;
    if (batch.length >= 512) await flush();
  }
  await flush();
  return count;
};

export const registerAnalyseCommand = (program: Command): void => {
  program
    .command('analyse')
    .alias('analyze')
    .description(
      'grade searches, URLs or page titles for risk: one per line on stdin; prints input, risk and severity (0-5), tab-separated',
    )
    .option('--lexicons <dir>', 'use the lexicon files in this folder (default: Haven’s data/lexicons)')
    .action(async (opts: { lexicons?: string }) => {
      const analyser = loadAnalyser(opts.lexicons ?? lexiconsDir());
      await analyseStream(analyser, process.stdin, process.stdout);
    });
};
