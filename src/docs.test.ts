import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { permissionTableMarkdown } from './core/index.ts';

it('docs/ARCHITECTURE.md shows the permission table the code enforces', () => {
  const doc = readFileSync(new URL('../docs/ARCHITECTURE.md', import.meta.url), 'utf8');
  const section = /<!-- permission-table:start -->\n([\s\S]*?)\n<!-- permission-table:end -->/.exec(doc)?.[1];
  assert.ok(section, 'the permission table markers are missing');
  assert.equal(
    section,
    permissionTableMarkdown(),
    'regenerate the table: node --import tsx -e "import(\'./src/core/index.ts\').then(m=>console.log(m.permissionTableMarkdown()))"',
  );
});
