import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findViolations, importsOf, MODULES } from './architecture.ts';

const srcDir = path.dirname(fileURLToPath(import.meta.url));

const readTree = (dir: string, base = dir, out = new Map<string, string>()) => {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) readTree(full, base, out);
    else if (name.endsWith('.ts')) out.set(path.relative(base, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
  }
  return out;
};

describe('dependency rules (DESIGN.md)', () => {
  it('the source tree obeys them', () => {
    const violations = findViolations(readTree(srcDir));
    assert.deepEqual(violations, [], violations.map((v) => `${v.file}: ${v.specifier} — ${v.reason}`).join('\n'));
  });

  it('every module has an index.ts as its public face', () => {
    for (const m of MODULES) {
      const dir = path.join(srcDir, m);
      const hasCode = readdirSync(dir).some((f) => f.endsWith('.ts') && f !== 'index.ts');
      if (hasCode) assert.ok(statSync(path.join(dir, 'index.ts')).isFile(), `${m}/index.ts is missing`);
    }
  });

  it('catches a forbidden edge', () => {
    const v = findViolations(new Map([['core/rbac.ts', "import { x } from '../storage/index.ts';"]]));
    assert.equal(v.length, 1);
    assert.match(v[0]!.reason, /core may not import storage/);
  });

  it('catches an import that bypasses index.ts', () => {
    const v = findViolations(new Map([['api/server.ts', "import { createStore } from '../services/user-service.ts';"]]));
    assert.equal(v.length, 1);
    assert.match(v[0]!.reason, /through services\/index.ts/);
  });

  it('catches I/O in core, including dynamic imports and type-only imports of other modules', () => {
    const v = findViolations(
      new Map([
        ['core/x.ts', "import { readFileSync } from 'node:fs';\nconst m = await import('../api/index.ts');"],
        ['storage/y.ts', "import type { Services } from '../services/index.ts';"],
      ]),
    );
    assert.deepEqual(
      v.map((x) => x.file + ' ' + x.specifier),
      ['core/x.ts node:fs', 'core/x.ts ../api/index.ts', 'storage/y.ts ../services/index.ts'],
    );
  });

  it('allows what the rules allow', () => {
    assert.deepEqual(
      findViolations(
        new Map([
          [
            'api/a.ts',
            "import { can } from '../core/index.ts';\nimport type { Services } from '../services/index.ts';\nimport { x } from './b.ts';",
          ],
          ['app/c.ts', "import { openDatabase } from '../storage/index.ts';"],
          ['core/d.ts', "import { createHash } from 'node:crypto';"],
        ]),
      ),
      [],
    );
  });

  it('lets tests wire modules together, and holds production code to the rules', () => {
    const v = findViolations(
      new Map([
        ['services/a.test.ts', "import { createStore } from '../storage/store.ts';\nimport { h } from '../../test-support/x.ts';"],
        ['services/a.ts', "import { h } from '../../test-support/x.ts';"],
      ]),
    );
    assert.deepEqual(
      v.map((x) => x.file),
      ['services/a.ts'],
    );
  });

  it('reads multi-line and re-export statements', () => {
    assert.deepEqual(importsOf("import {\n  a,\n  b,\n} from './x.ts';\nexport * from './y.ts';\nexport { z } from \"./z.ts\";"), [
      './x.ts',
      './y.ts',
      './z.ts',
    ]);
  });
});
