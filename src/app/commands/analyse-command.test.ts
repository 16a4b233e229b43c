import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { loadAnalyser } from '../lexicon-files.ts';
import { analyseLine, linesOf } from './analyse-command.ts';

const collect = async (chunks: (string | Buffer)[]) => {
  const out: string[] = [];
  for await (const line of linesOf(Readable.from(chunks))) out.push(line);
  return out;
};

describe('haven analyse: lines in, lines out', () => {
  it('splits on \\n only, drops the \\r of \\r\\n, keeps empty lines and a last line without \\n', async () => {
    assert.deepEqual(await collect(['a\r\nb\n\nc']), ['a', 'b', '', 'c']);
    assert.deepEqual(await collect(['a\n']), ['a']);
    assert.deepEqual(await collect(['x\ry\n']), ['x\ry']);
    assert.deepEqual(await collect(['ab', 'c\nd', 'e\n']), ['abc', 'de']);
  });

  it('keeps a line whole across chunks and decodes invalid UTF-8 with replacement characters', async () => {
    const snowman = Buffer.from('☃');
    assert.deepEqual(await collect([snowman.subarray(0, 1), Buffer.concat([snowman.subarray(1), Buffer.from('\n')])]), ['☃']);
    assert.deepEqual(await collect([Buffer.from([0x61, 0xff, 0xfe, 0x0a])]), ['a\ufffd\ufffd']);
  });

  it('bounds a very long line', async () => {
    const [line] = await collect(['k'.repeat(100_000) + '\n']);
    assert.ok(line!.length <= 2048 * 4);
  });

  it('prints input, risk and severity, with the echo cut and cleaned so the columns hold', () => {
    const analyser = loadAnalyser();
    assert.equal(analyseLine(analyser, 'how to kill myself tonight'), 'how to kill myself tonight\tsuicide\t5');
    assert.equal(analyseLine(analyser, ''), '\tnone\t0');
    assert.equal(analyseLine(analyser, 'a\tb'), 'a b\tnone\t0');
    const long = analyseLine(analyser, 'x'.repeat(5000));
    assert.equal(long, `${'x'.repeat(2048)}\tnone\t0`);
  });
});

describe('haven analyse (the real command)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-analyse-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const run = (input: Buffer | string, args: string[] = []) =>
    spawnSync(process.execPath, [path.resolve('bin/haven.mjs'), 'analyse', ...args], {
      input,
      env: { ...process.env, HAVEN_DATA_DIR: dataDir, HAVEN_DATABASE_URL: '' },
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });

  it('answers one line per input line, in order, whatever the input', () => {
    const lines = [
      'how to kill myself tonight',
      'https://www.google.com/search?q=best+way+to+hang+myself',
      'k 1 l l  m y s 3 l f',
      'Essex county council',
      '',
      'suicide helpline',
      'x'.repeat(10_000),
      '\u0000\u0001\u0002',
      'ѕuісіdе',
    ];
    const input = Buffer.concat([
      Buffer.from(lines.join('\n') + '\n'),
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0x0a]),
      Buffer.from('last line\r\n'),
    ]);
    const r = run(input);
    assert.equal(r.status, 0, r.stderr.toString());
    const out = r.stdout.toString('utf8').split('\n');
    assert.equal(out.pop(), '');
    assert.equal(out.length, lines.length + 2);
    for (const line of out) assert.match(line, /^[^\t]*\t(none|[a-z-]+)\t[0-5]$/);
    const cols = out.map((l) => l.split('\t'));
    assert.deepEqual(cols[0], ['how to kill myself tonight', 'suicide', '5']);
    assert.deepEqual(cols[1]!.slice(1), ['suicide', '5']);
    assert.equal(cols[2]![1], 'suicide');
    assert.deepEqual(cols[3]!.slice(1), ['none', '0']);
    assert.deepEqual(cols[4], ['', 'none', '0']);
    assert.deepEqual(cols[5]!.slice(1), ['none', '0']);
    assert.equal(cols[6]![0]!.length, 2048);
    assert.equal(cols[8]![1], 'suicide');
    assert.deepEqual(cols[10], ['last line', 'none', '0']);
  });

  it('prints nothing for empty input, and names a bad lexicon folder on stderr', () => {
    const empty = run('');
    assert.equal(empty.status, 0);
    assert.equal(empty.stdout.toString(), '');
    const bad = run('x\n', ['--lexicons', dataDir]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr.toString(), /common\.json is missing/);
  });
});
