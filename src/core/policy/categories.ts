/**
 * Haven's own categories: the fixed vocabulary policies speak. Source lists (UT1, IWF, CTIRU …)
 * are mapped onto these ids by the category map; policies never name a source list.
 *
 * - `kind: 'allow-list'` categories exist so good sites are recognised and never mis-blocked
 *   (sex education is the classic false positive of porn lists).
 * - `locked` categories can never be opened by a teacher's temporary override, and a policy may
 *   open them only for staff (with a validation warning). `illegal` is stricter still: nothing
 *   opens it, for anyone (see decide.ts).
 * - `priority` breaks ties when one host sits in lists of several categories at the same
 *   specificity: the higher wins. Security threats and the illegal tier beat everything;
 *   curated allow-lists beat content categories (an allow-list entry is a deliberate act,
 *   a content list is a crawl).
 * - `safeguarding` marks categories whose every access attempt (allowed or not) is flagged for
 *   the DSL's monitoring, as the UKSIC monitoring definition lists them.
 */

export type CategoryKind = 'block-list' | 'allow-list';

export interface HavenCategory {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly kind: CategoryKind;
  /** Higher wins when a host is in several categories at the same specificity. */
  readonly priority: number;
  /** Teachers can never open it; policies only for staff. */
  readonly locked: boolean;
  /** Every attempt is flagged for monitoring. */
  readonly safeguarding: boolean;
  /** Named in the UKSIC "appropriate filtering" definitions. */
  readonly uksic: boolean;
}

const c = <const I extends string>(
  id: I,
  label: string,
  kind: CategoryKind,
  priority: number,
  flags: { locked?: boolean; safeguarding?: boolean; uksic?: boolean },
  description: string,
) =>
  ({
    id,
    label,
    description,
    kind,
    priority,
    locked: flags.locked ?? false,
    safeguarding: flags.safeguarding ?? false,
    uksic: flags.uksic ?? false,
  }) as const;

export const HAVEN_CATEGORIES = [
  c(
    'illegal',
    'Illegal content',
    'block-list',
    1000,
    { locked: true, safeguarding: true, uksic: true },
    'Content on the police and IWF lists (child sexual abuse imagery, unlawful terrorist content). Always blocked, for everyone.',
  ),
  c(
    'malware',
    'Malware',
    'block-list',
    950,
    { locked: true, uksic: true },
    'Sites that spread viruses, ransomware, cryptojacking or stalkerware.',
  ),
  c(
    'phishing',
    'Phishing and fraud',
    'block-list',
    940,
    { locked: true, uksic: true },
    'Sites that steal passwords or money by pretending to be someone else.',
  ),
  // Allow-list categories sit above content categories: curated lists of good sites win ties.
  c(
    'help-services',
    'Help and support',
    'allow-list',
    900,
    {},
    'Counselling, helplines and support services (Childline, Samaritans, Papyrus, Talk to Frank, NHS). Kept open so they are never mis-blocked.',
  ),
  c(
    'sex-education',
    'Sex and relationships education',
    'allow-list',
    890,
    {},
    'Relationships, sex and health education resources, often wrongly caught by adult-content lists.',
  ),
  c('child-safe', 'Child-safe sites', 'allow-list', 880, {}, 'Sites made for young children.'),
  c(
    'educational-games',
    'Educational games',
    'allow-list',
    870,
    {},
    'Learning games used in lessons and homework (times tables, phonics, spelling, coding).',
  ),
  c('education', 'Education', 'allow-list', 860, {}, 'Schools, curriculum resources, learning platforms, libraries and exam boards.'),
  c(
    'pornography',
    'Pornography',
    'block-list',
    800,
    { locked: true, safeguarding: true, uksic: true },
    'Sites that display sexual acts or explicit images.',
  ),
  c(
    'self-harm',
    'Self-harm and suicide',
    'block-list',
    790,
    { locked: true, safeguarding: true, uksic: true },
    'Sites that promote or display deliberate self-harm, suicide or eating disorders. Help and support sites are a separate, open category.',
  ),
  c(
    'extremism',
    'Extremism',
    'block-list',
    780,
    { locked: true, safeguarding: true, uksic: true },
    'Sites that promote terrorism, terrorist ideologies, violence or intolerance (Prevent duty).',
  ),
  c(
    'discrimination',
    'Hate and discrimination',
    'block-list',
    770,
    { locked: true, safeguarding: true, uksic: true },
    'Hate speech and content promoting unjust treatment of people with protected characteristics.',
  ),
  c(
    'violence',
    'Violence and gore',
    'block-list',
    760,
    { locked: true, safeguarding: true, uksic: true },
    'Sites that display or promote physical force intended to hurt or kill, including gore.',
  ),
  c(
    'weapons',
    'Weapons',
    'block-list',
    750,
    { locked: true, safeguarding: true, uksic: true },
    'Weapon sales and instructions for making weapons or explosives.',
  ),
  c(
    'circumvention',
    'Filter circumvention',
    'block-list',
    740,
    { locked: true, uksic: true },
    'Proxies, VPNs, anonymisers and DNS-over-HTTPS resolvers that would take traffic around the filter.',
  ),
  c(
    'drugs',
    'Drugs and substance abuse',
    'block-list',
    700,
    { safeguarding: true, uksic: true },
    'Sites that promote or sell illegal drugs or substances. Drug education and support sites are under Help and support.',
  ),
  c('gambling', 'Gambling', 'block-list', 690, { uksic: true }, 'Betting, casinos, lotteries and sites that enable gambling.'),
  c(
    'hacking',
    'Hacking',
    'block-list',
    680,
    { uksic: true },
    'Tools and guides for breaking into systems or attacking them (DDoS, remote control).',
  ),
  c(
    'piracy',
    'Piracy',
    'block-list',
    670,
    { uksic: true },
    'Illegal provision of copyrighted material: warez, torrents, unlicensed streams.',
  ),
  c(
    'misinformation',
    'Misinformation',
    'block-list',
    660,
    { uksic: true },
    'Sites known for publishing false or misleading information and conspiracy theories.',
  ),
  c('dating', 'Dating', 'block-list', 650, {}, 'Dating and match-making sites.'),
  c(
    'adult-themes',
    'Adult themes',
    'block-list',
    640,
    {},
    'Lingerie, nudity that is not pornography, and sites mixing adult material with other content.',
  ),
  c('chat', 'Chat', 'block-list', 600, {}, 'Chat rooms and messaging with strangers, including random video chat.'),
  c('social-networks', 'Social networks', 'block-list', 590, {}, 'Social networks, forums and blogging platforms.'),
  c('generative-ai', 'AI chat and image tools', 'block-list', 580, {}, 'Generative AI chatbots and image generators.'),
  c('file-sharing', 'File sharing', 'block-list', 570, {}, 'File hosting and transfer services.'),
  c('webmail', 'Web mail', 'block-list', 560, {}, 'Personal web mail services.'),
  c('games', 'Games', 'block-list', 550, {}, 'Online games and gaming sites. Learning games are a separate, open category.'),
  c('streaming', 'Streaming media', 'block-list', 540, {}, 'Video, music and radio streaming.'),
  c('shopping', 'Shopping', 'block-list', 530, {}, 'Online shops and auctions.'),
  c('advertising', 'Advertising', 'block-list', 520, {}, 'Advertising and marketing trackers, which can carry adult or gambling adverts.'),
] as const satisfies readonly HavenCategory[];

export type CategoryId = (typeof HAVEN_CATEGORIES)[number]['id'];
/** Every category a policy may set an action for: `illegal` is not one of them. */
export type ConfigurableCategoryId = Exclude<CategoryId, 'illegal'>;

export const CATEGORY_IDS: readonly CategoryId[] = HAVEN_CATEGORIES.map((cat) => cat.id);

const BY_ID: ReadonlyMap<string, HavenCategory> = new Map(HAVEN_CATEGORIES.map((cat) => [cat.id, cat]));

export const isCategoryId = (id: string): id is CategoryId => BY_ID.has(id);
export const categoryById = (id: string): HavenCategory | undefined => BY_ID.get(id);
export const isLockedCategory = (id: string): boolean => BY_ID.get(id)?.locked ?? false;
export const isAllowListCategory = (id: string): boolean => BY_ID.get(id)?.kind === 'allow-list';
export const LOCKED_CATEGORIES: readonly CategoryId[] = HAVEN_CATEGORIES.filter((cat) => cat.locked).map((cat) => cat.id);

/**
 * The category that wins when a host is in several categories at the same specificity (the
 * classifier calls this). Unknown ids lose to known ones; ties keep the first given.
 */
export const pickCategory = (ids: readonly string[]): string | null => {
  let best: string | null = null;
  let bestPriority = -1;
  for (const id of ids) {
    const p = BY_ID.get(id)?.priority ?? 0;
    if (best === null || p > bestPriority) {
      best = id;
      bestPriority = p;
    }
  }
  return best;
};
