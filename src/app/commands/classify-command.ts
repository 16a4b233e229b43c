/**
 * `haven classify [--lists DIR] [--group NAME] [HOST_OR_URL …]`: one line per input,
 * `input<TAB>category<TAB>source<TAB>action` (category and source `-` when unlisted). Inputs come
 * from the arguments or, one per line, from stdin. Other tools read this output: keep its shape.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { nodeListsPorts } from '../../adapters/index.ts';
import {
  buildClassifier,
  categoriesForLists,
  compilePolicy,
  createClassificationEngine,
  decide,
  DEFAULT_PROFILE_IDS,
  defaultTrustPolicy,
  DomainError,
  examplePerson,
  loadClassifierSnapshot,
  listTreeFilters,
  parseIllegalCanaries,
  resolvePolicy,
  type Classifier,
  type CategoryMap,
  type FilterPolicy,
} from '../../core/index.ts';
import { loadIllegalTier, loadImportedClassifier } from '../../services/index.ts';
import { openHaven } from '../compose.ts';
import { loadConfig, type HavenConfig } from '../config.ts';
import { resolveSchoolId } from '../school-ref.ts';
import { loadCategoryMap } from './lists-command.ts';

/** The pupil group a school's unknown pupils fall into: what `classify` decides for by default. */
export const DEFAULT_CLASSIFY_GROUP: (typeof DEFAULT_PROFILE_IDS)[number] = 'pupil-unknown';

const loadClassifier = async (listsDir: string | undefined, dataDir: string, map: CategoryMap): Promise<Classifier> => {
  const ports = nodeListsPorts();
  if (listsDir) {
    const root = path.resolve(listsDir);
    // The same lists and exclusions an import would use, so `--lists` answers like the imported index.
    const tree = await ports.loadTree(root, {
      sourceName: path.basename(root),
      unwrapSingleFolder: true,
      ...listTreeFilters(map),
    });
    return buildClassifier(tree.lists);
  }
  const imported = await loadImportedClassifier({ ports, loadClassifierSnapshot }, dataDir);
  if (!imported) {
    throw new DomainError(
      'NOT_FOUND',
      'No category lists have been imported yet: run `haven lists import --from DIR|URL`, or pass --lists DIR',
      404,
    );
  }
  return imported.classifier;
};

/**
 * The saved policy of the school named, or of the only school; with several schools and none
 * named, the trust policy they all inherit. Without a database (a bare data folder), Haven's
 * defaults. Overrides in force now are included, as the filter would apply them.
 */
const policyToDecideBy = async (config: HavenConfig, schoolRef: string | undefined): Promise<FilterPolicy> => {
  const hasDatabase = config.databaseUrl !== undefined || existsSync(path.join(config.dataDir, 'haven.db'));
  if (!hasDatabase) {
    if (schoolRef !== undefined) throw new DomainError('SCHOOL_NOT_FOUND', 'There is no Haven database here to find the school in', 404);
    return resolvePolicy(defaultTrustPolicy(), { schoolId: 'defaults' });
  }
  const haven = await openHaven(config);
  try {
    const schools = await haven.services.deps.store.tenancy.listSchools('all');
    const schoolId = schoolRef !== undefined ? await resolveSchoolId(haven, schoolRef) : schools.length === 1 ? schools[0]!.id : null;
    if (schoolId !== null) return await haven.services.policies.effectivePolicy(schoolId);
    const trust = await haven.services.policies.trustPolicy().catch(() => null);
    return resolvePolicy(trust?.policy ?? defaultTrustPolicy(), { schoolId: 'trust' });
  } finally {
    await haven.close();
  }
};

const readStdinLines = async function* (): AsyncGenerator<string> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) if (line.trim()) yield line;
};

export const registerClassifyCommand = (program: Command): void => {
  program
    .command('classify')
    .description('classify hosts or URLs: prints input, category, source list and the action for a group, tab-separated')
    .argument('[inputs...]', 'hosts or URLs (default: one per line on stdin)')
    .option('--lists <dir>', 'classify with the UT1-form lists in this folder instead of the imported index')
    .option('--group <name>', `policy group to decide for: ${DEFAULT_PROFILE_IDS.join(', ')}`, DEFAULT_CLASSIFY_GROUP)
    .option('--school <id|urn|name>', "decide by this school's saved policy (default: the only school, else the trust policy)")
    .action(async (inputs: string[], opts: { lists?: string; group: string; school?: string }) => {
      const config = loadConfig();
      const map = loadCategoryMap();
      const classifier = await loadClassifier(opts.lists, config.dataDir, map);
      const { tier } = await loadIllegalTier(
        { ports: nodeListsPorts() },
        { dataDir: config.dataDir, canaries: parseIllegalCanaries(process.env.HAVEN_ILLEGAL_CANARIES) },
      );
      const engine = createClassificationEngine({
        classifier,
        listCategories: categoriesForLists(map, classifier.listNames),
        illegal: tier,
      });
      const policy = await policyToDecideBy(config, opts.school);
      const profile = policy.profiles.find((p) => p.id === opts.group);
      if (!profile) {
        throw new DomainError(
          'VALIDATION_FAILED',
          `Unknown group "${opts.group}"; known: ${policy.profiles.map((p) => p.id).join(', ')}`,
          400,
        );
      }
      const compiled = compilePolicy(policy);
      const person = examplePerson(profile.audience);
      const at = new Date();
      const answer = (input: string) => {
        const c = engine.classify(input);
        const action = c.host === null ? 'invalid' : decide(compiled, { host: c.host, ...(c.url && { url: c.url }), at, person }, c).action;
        process.stdout.write(`${input}\t${c.category ?? '-'}\t${c.source ?? '-'}\t${action}\n`);
      };
      if (inputs.length > 0) for (const input of inputs) answer(input);
      else for await (const line of readStdinLines()) answer(line.trim());
    });
};
