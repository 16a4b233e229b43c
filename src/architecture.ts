/**
 * The dependency rules of docs/ARCHITECTURE.md as data, and a checker over source files. Used by
 * architecture.test.ts; kept as a module so the rules are readable on their own.
 */
import path from 'node:path';

export const MODULES = ['core', 'services', 'storage', 'dataplane', 'pipeline', 'api', 'adapters', 'app'] as const;
export type ModuleName = (typeof MODULES)[number];

/** What each module may import from the others (always through their index.ts). */
export const ALLOWED: Record<ModuleName, readonly ModuleName[]> = {
  core: [],
  services: ['core'],
  storage: ['core'],
  adapters: ['core'],
  dataplane: ['core'],
  pipeline: ['core', 'services'],
  api: ['core', 'services'],
  app: ['core', 'services', 'storage', 'dataplane', 'pipeline', 'api', 'adapters'],
};

/** core is pure: no file, network or database I/O. */
const CORE_FORBIDDEN_PACKAGES =
  /^(node:)?(fs|fs\/promises|net|http|https|http2|dgram|tls|child_process|cluster|worker_threads)$|^(better-sqlite3|pg|kysely|fastify)$/;

export interface Violation {
  file: string;
  specifier: string;
  reason: string;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export const importsOf = (source: string): string[] => {
  const found: string[] = [];
  for (const m of source.matchAll(IMPORT_RE)) found.push((m[1] ?? m[2])!);
  return found;
};

const moduleOf = (relFromSrc: string): ModuleName | null => {
  const top = relFromSrc.split('/')[0] ?? '';
  return (MODULES as readonly string[]).includes(top) ? (top as ModuleName) : null;
};

/**
 * Checks files given as paths relative to src/ (e.g. "api/server.ts") with their contents.
 * Test files are composition roots of their own: they may wire any modules together and reach
 * into internals (and test-support/). The rules bind production code.
 */
export const findViolations = (files: ReadonlyMap<string, string>): Violation[] => {
  const violations: Violation[] = [];
  for (const [file, source] of files) {
    const from = moduleOf(file);
    if (!from) continue;
    if (file.endsWith('.test.ts')) continue;
    for (const specifier of importsOf(source)) {
      if (!specifier.startsWith('.')) {
        if (from === 'core' && CORE_FORBIDDEN_PACKAGES.test(specifier)) {
          violations.push({ file, specifier, reason: 'core must not do I/O or import infrastructure packages' });
        }
        continue;
      }
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      if (target.startsWith('..')) {
        violations.push({ file, specifier, reason: 'src/ must not import from outside src/' });
        continue;
      }
      const to = moduleOf(target);
      if (!to || to === from) continue;
      if (!ALLOWED[from].includes(to)) {
        violations.push({ file, specifier, reason: `${from} may not import ${to} (allowed: ${ALLOWED[from].join(', ') || 'nothing'})` });
        continue;
      }
      if (target !== `${to}/index.ts`) {
        violations.push({ file, specifier, reason: `import ${to} through ${to}/index.ts, not its internals` });
      }
    }
  }
  return violations;
};
