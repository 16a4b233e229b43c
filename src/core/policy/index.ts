/**
 * @module core/policy — the filtering policy model and the decision function: Haven's
 * categories, trust and school policies, defaults, `compilePolicy` + `decide` (the hot path),
 * validation and readable diffs for the change log. Pure: no I/O, time comes in the request.
 */
export * from './categories.ts';
export * from './types.ts';
export { resolvePolicy } from './resolve.ts';
export {
  defaultTrustPolicy,
  defaultPolicyTableMarkdown,
  DEFAULT_ACTION_TABLE,
  DEFAULT_HELP_SITES,
  DEFAULT_LEARNING_SITES,
  DEFAULT_PROFILE_IDS,
  DEFAULT_SEARCH,
  DEFAULT_TABLE_COLUMNS,
  DEFAULT_TEACHER_OVERRIDES,
  type DefaultProfileId,
} from './defaults.ts';
export { compilePolicy, decide, categoryLabel, type CompiledPolicy } from './decide.ts';
export { validatePolicy, policyErrors, MAX_OVERRIDE_MINUTES_CEILING, type PolicyProblem, type ValidateOptions } from './validate.ts';
export { policyDiff, describeSchedule, type DiffOptions } from './diff.ts';
export { describeAudience, audienceMatches, audienceIsGroupScoped, examplePerson, personView, type PersonView } from './audience.ts';
export { parseCidr, parseIpAddress, cidrContains, ipInCidr, type Cidr } from './cidr.ts';
export { parseSitePattern, type SitePattern } from './hosts.ts';
