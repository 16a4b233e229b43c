/**
 * Haven's default trust policy: what a new trust or stand-alone school starts with. Reasons for
 * each choice are in docs/decisions/0005-filtering-policy-model.md; the table there is generated
 * from DEFAULT_ACTION_TABLE (a test keeps them equal).
 *
 * The shape of the defaults: every UKSIC harm is blocked for every pupil and guest; locked
 * categories are blocked for staff too; learning, sex education and help sites are open to
 * everyone; the rest opens with age, and "warn" and "allow-and-flag" stand in for a block where a
 * managed, monitored choice teaches more than a locked door (Ofsted: pupils in managed systems
 * understood safety better than those in locked-down ones).
 */
import { HAVEN_CATEGORIES, type ConfigurableCategoryId } from './categories.ts';
import type {
  ActionMap,
  FilterAction,
  PolicyListEntry,
  PolicyProfile,
  PolicyRule,
  TeacherOverrideSettings,
  TrustPolicy,
  YoutubeMode,
} from './types.ts';

export const DEFAULT_PROFILE_IDS = ['staff', 'eyfs-ks1', 'ks2', 'ks3-plus', 'pupil-unknown', 'guests'] as const;
export type DefaultProfileId = (typeof DEFAULT_PROFILE_IDS)[number];

/** The columns of the default table, in order. */
export const DEFAULT_TABLE_COLUMNS = ['eyfs-ks1', 'ks2', 'ks3-plus', 'staff', 'guests'] as const;
type Column = (typeof DEFAULT_TABLE_COLUMNS)[number];
type Row = readonly [FilterAction, FilterAction, FilterAction, FilterAction, FilterAction];

const B = 'block';
const A = 'allow';
const W = 'warn';
const F = 'allow-and-flag';

/** Default action per category for EYFS/KS1, KS2, KS3+, staff and guests. */
export const DEFAULT_ACTION_TABLE: Readonly<Record<ConfigurableCategoryId | 'uncategorised', Row>> = {
  //                  EYFS/KS1 KS2 KS3+ staff guests
  pornography: [B, B, B, B, B],
  'self-harm': [B, B, B, B, B],
  extremism: [B, B, B, B, B],
  discrimination: [B, B, B, B, B],
  violence: [B, B, B, B, B],
  weapons: [B, B, B, B, B],
  circumvention: [B, B, B, B, B],
  malware: [B, B, B, B, B],
  phishing: [B, B, B, B, B],
  piracy: [B, B, B, B, B],
  drugs: [B, B, B, A, B],
  gambling: [B, B, B, A, B],
  hacking: [B, B, B, A, B],
  dating: [B, B, B, A, B],
  'adult-themes': [B, B, B, A, B],
  advertising: [B, B, B, A, B],
  chat: [B, B, B, A, B],
  misinformation: [B, B, W, A, W],
  games: [B, B, W, A, W],
  'social-networks': [B, B, F, A, A],
  'generative-ai': [B, B, F, A, A],
  'file-sharing': [B, B, F, A, A],
  webmail: [B, F, A, A, A],
  streaming: [A, A, A, A, A],
  shopping: [A, A, A, A, A],
  'help-services': [A, A, A, A, A],
  'sex-education': [A, A, A, A, A],
  'child-safe': [A, A, A, A, A],
  'educational-games': [A, A, A, A, A],
  education: [A, A, A, A, A],
  uncategorised: [A, A, A, A, A],
};

const column = (col: Column): ActionMap => {
  const i = DEFAULT_TABLE_COLUMNS.indexOf(col);
  const out: ActionMap = {};
  for (const [category, row] of Object.entries(DEFAULT_ACTION_TABLE) as [keyof ActionMap, Row][]) out[category] = row[i];
  return out;
};

export const DEFAULT_SEARCH: Readonly<Record<Column, { safeSearch: boolean; youtube: YoutubeMode }>> = {
  'eyfs-ks1': { safeSearch: true, youtube: 'strict' },
  ks2: { safeSearch: true, youtube: 'strict' },
  'ks3-plus': { safeSearch: true, youtube: 'moderate' },
  // SafeSearch stays on for staff: searches land on classroom projectors.
  staff: { safeSearch: true, youtube: 'off' },
  guests: { safeSearch: true, youtube: 'moderate' },
};

const profiles = (): PolicyProfile[] => [
  { id: 'staff', label: 'staff', audience: { kinds: ['staff'] }, actions: column('staff'), ...DEFAULT_SEARCH.staff },
  {
    id: 'eyfs-ks1',
    label: 'EYFS and Key Stage 1 pupils',
    audience: { kinds: ['pupil'], keyStages: ['EYFS', 'KS1'] },
    actions: column('eyfs-ks1'),
    ...DEFAULT_SEARCH['eyfs-ks1'],
  },
  {
    id: 'ks2',
    label: 'Key Stage 2 pupils',
    audience: { kinds: ['pupil'], keyStages: ['KS2'] },
    actions: column('ks2'),
    ...DEFAULT_SEARCH.ks2,
  },
  {
    id: 'ks3-plus',
    label: 'Key Stage 3–5 pupils',
    audience: { kinds: ['pupil'], keyStages: ['KS3', 'KS4', 'KS5'] },
    actions: column('ks3-plus'),
    ...DEFAULT_SEARCH['ks3-plus'],
  },
  // A pupil whose year group is not known gets the youngest pupils' filtering until the record is fixed.
  { id: 'pupil-unknown', label: 'pupils', audience: { kinds: ['pupil'] }, actions: column('eyfs-ks1'), ...DEFAULT_SEARCH['eyfs-ks1'] },
  // Guests include anyone the filter cannot identify, who may be a child.
  {
    id: 'guests',
    label: 'guests',
    audience: { kinds: ['guest', 'visitor', 'parent', 'governor'] },
    actions: column('guests'),
    ...DEFAULT_SEARCH.guests,
  },
];

const rules = (): PolicyRule[] => [
  {
    id: 'at-risk-contact',
    description: 'Pupils flagged at-risk: contact channels closed',
    audience: { kinds: ['pupil'], flags: ['at-risk'] },
    actions: { 'social-networks': 'block', chat: 'block', dating: 'block', 'file-sharing': 'block', 'generative-ai': 'block' },
  },
  {
    id: 'years-7-8-minimum-age',
    description: 'Years 7–8: social networks and AI chat blocked (their minimum age is 13)',
    audience: { kinds: ['pupil'], yearGroups: ['7', '8'] },
    actions: { 'social-networks': 'block', 'generative-ai': 'block' },
  },
];

/** Learning-game sites that general lists file under games; kept open so primary "games: block" does not catch them. */
export const DEFAULT_LEARNING_SITES: readonly string[] = [
  'ttrockstars.com',
  'numbots.com',
  'topmarks.co.uk',
  'purplemash.com',
  'edshed.com',
  'spellingshed.com',
  'mathshed.com',
  'sumdog.com',
  'mathletics.com',
  'doodlelearning.com',
  'prodigygame.com',
  'phonicsplay.co.uk',
  'ictgames.com',
  'mathsframe.co.uk',
  'educationcity.com',
  'nrich.maths.org',
  'scratch.mit.edu',
  'code.org',
  'bbc.co.uk/bitesize',
];

/** Help and support services that must never be caught by a self-harm, drugs or adult list. */
export const DEFAULT_HELP_SITES: readonly string[] = [
  'childline.org.uk',
  'nspcc.org.uk',
  'samaritans.org',
  'papyrus-uk.org',
  'giveusashout.org',
  'youngminds.org.uk',
  'kooth.com',
  'mind.org.uk',
  'beateatingdisorders.org.uk',
  'talktofrank.com',
  'brook.org.uk',
  'ceop.police.uk',
  'thinkuknow.co.uk',
  'reportharmfulcontent.com',
  'childnet.com',
  'saferinternet.org.uk',
  'nhs.uk',
];

const allowList = (): PolicyListEntry[] => [
  ...DEFAULT_LEARNING_SITES.map((pattern) => ({ pattern, note: 'Learning games and curriculum sites (Haven default)' })),
  ...DEFAULT_HELP_SITES.map((pattern) => ({ pattern, note: 'Help and support services (Haven default)' })),
];

export const DEFAULT_TEACHER_OVERRIDES: TeacherOverrideSettings = {
  categories: ['games', 'social-networks', 'streaming', 'shopping', 'webmail', 'file-sharing', 'generative-ai', 'misinformation'],
  sites: true,
  maxMinutes: 480,
};

/** For categories no profile sets, and people no profile covers: pupil-safe. */
const baseline = (): ActionMap => column('guests');

/** A fresh copy of Haven's default trust policy. */
export const defaultTrustPolicy = (trustId = 'default', name = 'Haven defaults'): TrustPolicy => ({
  trustId,
  name,
  timeZone: 'Europe/London',
  baseline: baseline(),
  profiles: profiles(),
  rules: rules(),
  allowList: allowList(),
  blockList: [],
  teacherOverrides: { ...DEFAULT_TEACHER_OVERRIDES, categories: [...DEFAULT_TEACHER_OVERRIDES.categories] },
  terms: [],
  places: [],
});

const SHORT: Record<FilterAction, string> = { allow: 'allow', block: 'block', warn: 'warn', 'allow-and-flag': 'allow + flag' };
const HEADINGS: Record<Column, string> = { 'eyfs-ks1': 'EYFS/KS1', ks2: 'KS2', 'ks3-plus': 'KS3–KS5', staff: 'Staff', guests: 'Guests' };

/** The default table as Markdown, for the decision note. */
export const defaultPolicyTableMarkdown = (): string => {
  const label = (id: string) => (id === 'uncategorised' ? 'Uncategorised' : (HAVEN_CATEGORIES.find((c) => c.id === id)?.label ?? id));
  const lines = [
    `| Category | ${DEFAULT_TABLE_COLUMNS.map((c) => HEADINGS[c]).join(' | ')} |`,
    `|---|${DEFAULT_TABLE_COLUMNS.map(() => '---').join('|')}|`,
  ];
  for (const [id, row] of Object.entries<Row>(DEFAULT_ACTION_TABLE)) {
    lines.push(`| ${label(id)} (\`${id}\`) | ${row.map((a) => SHORT[a]).join(' | ')} |`);
  }
  lines.push(`| SafeSearch | ${DEFAULT_TABLE_COLUMNS.map((c) => (DEFAULT_SEARCH[c].safeSearch ? 'on' : 'off')).join(' | ')} |`);
  lines.push(`| YouTube restricted mode | ${DEFAULT_TABLE_COLUMNS.map((c) => DEFAULT_SEARCH[c].youtube).join(' | ')} |`);
  return lines.join('\n');
};
