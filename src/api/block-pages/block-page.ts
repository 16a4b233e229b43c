/**
 * Haven's block and warn pages, for the proxy and for the block-page server the DNS filter points
 * blocked names at. Words fit who is asking: short and plain for primary pupils (Nursery to Year
 * 6), a little more for secondary pupils, matter-of-fact for staff and guests. Each names the
 * category, never the list; an illegal-tier page says only that the page is not allowed. The
 * buttons lead to Haven's own forms with a signed ticket: "ask for this site to be unblocked"
 * (not on illegal-tier pages) and "tell a trusted adult". The school's own message comes after.
 */
import { categoryLabel, type ClientIdentity } from '../../core/index.ts';
import { CHILDLINE, clip, escapeHtml, page, PAGE_HEADERS } from './html.ts';

export type BlockAudience = 'primary' | 'secondary' | 'adult';

export interface BlockPageContent {
  host: string;
  url: string | null;
  category: string | null;
  action: 'block' | 'warn';
  illegal: boolean;
  /** Haven's public address, for the buttons' links ("https://haven.school.example"). */
  publicUrl: string;
  /** Signed facts for the buttons (services.unblock.ticketFor). */
  ticket: string;
  /** The school's words, from its policy. */
  schoolMessage: string | null;
  /** For a warning: where "continue" goes (default: Haven's /continue, which records the choice for an hour). */
  continueUrl: string | null;
  audience: BlockAudience;
}

const PRIMARY_YEARS = new Set(['N', 'R', '1', '2', '3', '4', '5', '6']);

/** Which words suit the person behind the request. */
export const audienceOf = (identity: Pick<ClientIdentity, 'person'> | null): BlockAudience => {
  const person = identity?.person;
  if (!person || person.kind !== 'pupil') return 'adult';
  return person.yearGroup !== undefined && PRIMARY_YEARS.has(person.yearGroup) ? 'primary' : 'secondary';
};

const WORDS: Record<BlockAudience, { blocked: string; warn: string; why: (category: string) => string; ask: string; tell: string }> = {
  primary: {
    blocked: 'This website is not for school',
    warn: 'Stop and think',
    why: (c) => `Haven has stopped this website because it is about <strong>${c}</strong>.`,
    ask: 'I need it for my work',
    tell: 'Tell a grown-up I trust',
  },
  secondary: {
    blocked: 'This site is blocked',
    warn: 'Are you sure you want to go on?',
    why: (c) => `The school’s filter blocks <strong>${c}</strong> on this network.`,
    ask: 'Ask for it to be unblocked',
    tell: 'Tell a trusted adult',
  },
  adult: {
    blocked: 'This site is blocked',
    warn: 'This site needs care',
    why: (c) => `The school’s filtering policy blocks <strong>${c}</strong> for you on this network.`,
    ask: 'Ask for it to be unblocked',
    tell: 'Report a concern to the safeguarding team',
  },
};

export const renderBlockPage = (c: BlockPageContent): { status: number; headers: Record<string, string>; body: string } => {
  const words = WORDS[c.audience];
  const warn = c.action === 'warn' && !c.illegal;
  const link = (kind: 'unblock' | 'trusted_adult') => `${c.publicUrl}/unblock?kind=${kind}&amp;t=${encodeURIComponent(c.ticket)}`;
  const parts: string[] = [];
  if (c.illegal) {
    parts.push(`<h1>This page is not allowed</h1>`);
    parts.push('<p>Haven has stopped this page. It cannot be opened on this network.</p>');
  } else {
    parts.push(`<h1>${warn ? words.warn : words.blocked}</h1>`);
    parts.push(`<p><span class="site">${escapeHtml(clip(c.url ?? c.host))}</span></p>`);
    parts.push(`<p>${words.why(escapeHtml(categoryLabel(c.category)))}</p>`);
    if (warn) parts.push('<p>This site may not be suitable. If you go on, the school will know you chose to.</p>');
  }
  if (c.schoolMessage) parts.push(`<div class="school"><p>${escapeHtml(c.schoolMessage)}</p></div>`);
  const buttons: string[] = [];
  const continueUrl = c.continueUrl ?? `${c.publicUrl}/continue?t=${encodeURIComponent(c.ticket)}`;
  if (warn) buttons.push(`<a class="button" href="${escapeHtml(continueUrl)}">I understand, go on</a>`);
  if (!c.illegal && !warn) buttons.push(`<a class="button" href="${link('unblock')}">${words.ask}</a>`);
  buttons.push(`<a class="button button--secondary" href="${link('trusted_adult')}">${words.tell}</a>`);
  parts.push(`<div class="actions">${buttons.join('')}</div>`);
  if (c.audience !== 'adult') parts.push(CHILDLINE);
  return {
    status: warn ? 200 : 403,
    headers: { ...PAGE_HEADERS },
    body: page(c.illegal ? 'Not allowed' : warn ? words.warn : words.blocked, parts.join('\n'), { big: c.audience === 'primary' }),
  };
};
