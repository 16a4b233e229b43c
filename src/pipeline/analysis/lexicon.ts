/**
 * Lexicons: the versioned data files in data/lexicons/ (one per risk category, plus common.json
 * for help-seeking, study and exception phrases and text-speak rewrites that apply to all),
 * documented in docs/analysis.md. Parsing is pure: src/app/lexicon-files.ts reads the files and
 * hands the JSON here, which names every problem at once so a bad edit stops start-up clearly.
 */
import { invalid } from '../../core/index.ts';

/** The risk categories, in the order that breaks a tie of severity (the more urgent first). */
export const RISK_CATEGORIES = [
  'suicide',
  'self-harm',
  'grooming',
  'eating-disorders',
  'extremism',
  'violence',
  'sexual-content',
  'bullying',
  'hate',
  'drugs',
  'gambling',
] as const;
export type RiskCategory = (typeof RISK_CATEGORIES)[number];

export const isRiskCategory = (v: unknown): v is RiskCategory =>
  typeof v === 'string' && (RISK_CATEGORIES as readonly string[]).includes(v);

/** Languages a term may be tagged with: English, Polish, Romanian, Urdu (romanised or in Urdu script). */
export const LEXICON_LANGUAGES = ['en', 'pl', 'ro', 'ur'] as const;
export type LexiconLanguage = (typeof LEXICON_LANGUAGES)[number];

export type Severity = 1 | 2 | 3 | 4 | 5;

export interface LexiconTerm {
  /** A word or short phrase, as a person would type it; the normaliser folds it like the text. */
  readonly term: string;
  readonly severity: Severity;
  readonly lang: LexiconLanguage;
  /** First-person disclosure ("cutting myself"): help-seeking or study words lower it, never below 2. */
  readonly disclosure?: boolean;
  /** Also match spellings one edit away ("sucide"): for long, distinctive words only. */
  readonly fuzzy?: boolean;
  /** Never search for it inside joined words (URLs, hashtags); short or common words. */
  readonly wholeWord?: boolean;
  /** The match does not count when any of these phrases is also in the text. */
  readonly unless?: readonly string[];
  /** The match counts only when one of these phrases is also in the text. */
  readonly onlyWith?: readonly string[];
  /** With one of these phrases in the text, the severity becomes escalateTo (default 5). */
  readonly escalateWith?: readonly string[];
  readonly escalateTo?: Severity;
  readonly note?: string;
}

export interface Lexicon {
  readonly category: RiskCategory;
  readonly version: string;
  readonly description: string;
  readonly languages: readonly LexiconLanguage[];
  readonly terms: readonly LexiconTerm[];
  /** Phrases that show someone looking for help about this category. */
  readonly helpSeeking: readonly string[];
  /** Phrases that show schoolwork or study about this category. */
  readonly study: readonly string[];
  /** Benign phrases that contain a term ("sex education", "assassin's creed"): terms inside them do not count. */
  readonly exceptions: readonly string[];
}

export interface CommonLexicon {
  readonly version: string;
  readonly helpSeeking: readonly string[];
  readonly study: readonly string[];
  readonly exceptions: readonly string[];
  /** Text-speak and misspellings: a whole word → its plain spelling ("u" → "you", "2nite" → "tonight"). */
  readonly rewrites: Readonly<Record<string, string>>;
}

export interface LexiconSet {
  readonly common: CommonLexicon;
  readonly lexicons: readonly Lexicon[];
}

// ---------------------------------------------------------------------------------------------

type Fail = (path: string, message: string) => void;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const VERSION = /^\d+\.\d+\.\d+$/;
const MAX_PHRASE = 80;

const summarise = (what: string, problems: readonly string[]): string => {
  const shown = problems.slice(0, 8);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  return `${what} is not valid: ${shown.join('; ')}${more}`;
};

const checkKeys = (raw: Record<string, unknown>, at: string, allowed: readonly string[], fail: Fail) => {
  for (const key of Object.keys(raw)) if (!allowed.includes(key)) fail(at ? `${at}.${key}` : key, 'unknown field');
};

const phrase = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= MAX_PHRASE && /[\p{L}\p{N}]/u.test(v);

const phrases = (raw: unknown, at: string, fail: Fail): string[] => {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    fail(at, 'must be a list of phrases');
    return [];
  }
  const seen = new Set<string>();
  const out: string[] = [];
  raw.forEach((v: unknown, i) => {
    if (!phrase(v)) return fail(`${at}[${i}]`, `must be a word or phrase of 1–${MAX_PHRASE} characters`);
    const key = v.trim().toLowerCase();
    if (seen.has(key)) return fail(`${at}[${i}]`, `"${v}" is listed twice`);
    seen.add(key);
    out.push(v.trim());
  });
  return out;
};

const version = (raw: Record<string, unknown>, fail: Fail): string => {
  if (raw.schema !== 1) fail('schema', 'must be 1');
  if (typeof raw.version !== 'string' || !VERSION.test(raw.version)) {
    fail('version', 'must be a version such as "1.0.0" (raise it with every change)');
    return '0.0.0';
  }
  return raw.version;
};

const isSeverity = (v: unknown): v is Severity => v === 1 || v === 2 || v === 3 || v === 4 || v === 5;

const termOf = (raw: unknown, at: string, languages: readonly LexiconLanguage[], fail: Fail): LexiconTerm | null => {
  if (!isRecord(raw)) {
    fail(at, 'must be an object with "term" and "severity"');
    return null;
  }
  checkKeys(
    raw,
    at,
    ['term', 'severity', 'lang', 'disclosure', 'fuzzy', 'wholeWord', 'unless', 'onlyWith', 'escalateWith', 'escalateTo', 'note'],
    fail,
  );
  let ok = true;
  const bad = (field: string, message: string) => {
    fail(`${at}.${field}`, message);
    ok = false;
  };
  if (!phrase(raw.term)) bad('term', `must be a word or phrase of 1–${MAX_PHRASE} characters`);
  if (!isSeverity(raw.severity)) bad('severity', 'must be 1, 2, 3, 4 or 5');
  const lang = raw.lang ?? 'en';
  if (!(LEXICON_LANGUAGES as readonly unknown[]).includes(lang)) bad('lang', `must be one of ${LEXICON_LANGUAGES.join(', ')}`);
  else if (!languages.includes(lang as LexiconLanguage)) bad('lang', `"${lang as string}" is not in the file's "languages"`);
  for (const flag of ['disclosure', 'fuzzy', 'wholeWord'] as const) {
    if (raw[flag] !== undefined && typeof raw[flag] !== 'boolean') bad(flag, 'must be true or false');
  }
  if (raw.fuzzy === true && typeof raw.term === 'string' && (raw.term.trim().length < 6 || /\s/.test(raw.term.trim())))
    bad('fuzzy', 'is for single words of 6 letters or more (short words have too many neighbours)');
  if (raw.escalateTo !== undefined && !isSeverity(raw.escalateTo)) bad('escalateTo', 'must be 1, 2, 3, 4 or 5');
  if (raw.escalateTo !== undefined && raw.escalateWith === undefined) bad('escalateTo', 'needs "escalateWith"');
  if (raw.note !== undefined && typeof raw.note !== 'string') bad('note', 'must be text');
  const unless = phrases(raw.unless, `${at}.unless`, (p, m) => bad(p.slice(at.length + 1), m));
  const onlyWith = phrases(raw.onlyWith, `${at}.onlyWith`, (p, m) => bad(p.slice(at.length + 1), m));
  const escalateWith = phrases(raw.escalateWith, `${at}.escalateWith`, (p, m) => bad(p.slice(at.length + 1), m));
  if (!ok) return null;
  return {
    term: (raw.term as string).trim(),
    severity: raw.severity as Severity,
    lang: lang as LexiconLanguage,
    ...(raw.disclosure === true && { disclosure: true }),
    ...(raw.fuzzy === true && { fuzzy: true }),
    ...(raw.wholeWord === true && { wholeWord: true }),
    ...(unless.length > 0 && { unless }),
    ...(onlyWith.length > 0 && { onlyWith }),
    ...(escalateWith.length > 0 && { escalateWith, escalateTo: isSeverity(raw.escalateTo) ? raw.escalateTo : 5 }),
    ...(typeof raw.note === 'string' && { note: raw.note }),
  };
};

/** Validates one category file's parsed JSON. Throws VALIDATION_FAILED naming each problem. */
export const parseLexicon = (json: unknown, what = 'The lexicon'): Lexicon => {
  const problems: string[] = [];
  const fail: Fail = (path, message) => void problems.push(`${path}: ${message}`);
  if (!isRecord(json)) throw invalid(`${what} must be a JSON object`);
  checkKeys(json, '', ['schema', 'category', 'version', 'description', 'languages', 'terms', 'helpSeeking', 'study', 'exceptions'], fail);
  const v = version(json, fail);
  if (!isRiskCategory(json.category)) fail('category', `must be one of ${RISK_CATEGORIES.join(', ')}`);
  if (typeof json.description !== 'string' || json.description.trim() === '') fail('description', 'must say what the category covers');
  let languages: LexiconLanguage[] = [];
  if (
    !Array.isArray(json.languages) ||
    json.languages.length === 0 ||
    !json.languages.every((l) => (LEXICON_LANGUAGES as readonly unknown[]).includes(l))
  )
    fail('languages', `must list the languages used, from ${LEXICON_LANGUAGES.join(', ')}`);
  else languages = json.languages as LexiconLanguage[];
  const terms: LexiconTerm[] = [];
  if (!Array.isArray(json.terms) || json.terms.length === 0) fail('terms', 'must be a non-empty list');
  else {
    const seen = new Map<string, number>();
    json.terms.forEach((raw: unknown, i) => {
      const t = termOf(raw, `terms[${i}]`, languages, fail);
      if (!t) return;
      const key = t.term.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) return fail(`terms[${i}]`, `"${t.term}" is already terms[${first}]`);
      seen.set(key, i);
      terms.push(t);
    });
  }
  const lexicon: Lexicon = {
    category: json.category as RiskCategory,
    version: v,
    description: typeof json.description === 'string' ? json.description : '',
    languages,
    terms,
    helpSeeking: phrases(json.helpSeeking, 'helpSeeking', fail),
    study: phrases(json.study, 'study', fail),
    exceptions: phrases(json.exceptions, 'exceptions', fail),
  };
  if (problems.length > 0) throw invalid(summarise(what, problems), { problems });
  return lexicon;
};

/** Validates common.json's parsed JSON. */
export const parseCommonLexicon = (json: unknown, what = 'The common lexicon'): CommonLexicon => {
  const problems: string[] = [];
  const fail: Fail = (path, message) => void problems.push(`${path}: ${message}`);
  if (!isRecord(json)) throw invalid(`${what} must be a JSON object`);
  checkKeys(json, '', ['schema', 'version', 'description', 'helpSeeking', 'study', 'exceptions', 'rewrites'], fail);
  const v = version(json, fail);
  const rewrites: Record<string, string> = {};
  if (json.rewrites !== undefined) {
    if (!isRecord(json.rewrites)) fail('rewrites', 'must be an object of word → plain spelling');
    else
      for (const [from, to] of Object.entries(json.rewrites)) {
        if (!/^[\p{L}\p{N}@$!|+]{1,30}$/u.test(from)) fail(`rewrites.${from}`, 'must be one word (no spaces)');
        else if (!phrase(to)) fail(`rewrites.${from}`, 'must map to a word or phrase');
        else rewrites[from] = to;
      }
  }
  const common: CommonLexicon = {
    version: v,
    helpSeeking: phrases(json.helpSeeking, 'helpSeeking', fail),
    study: phrases(json.study, 'study', fail),
    exceptions: phrases(json.exceptions, 'exceptions', fail),
    rewrites,
  };
  if (problems.length > 0) throw invalid(summarise(what, problems), { problems });
  return common;
};

/**
 * The whole set from files' parsed JSON, by file name: common.json and one file per category,
 * each category exactly once and named after it ("self-harm.json" holds "self-harm").
 */
export const parseLexiconSet = (files: readonly { readonly name: string; readonly json: unknown }[]): LexiconSet => {
  let common: CommonLexicon | null = null;
  const lexicons: Lexicon[] = [];
  const problems: string[] = [];
  for (const f of files) {
    if (f.name === 'common.json') {
      common = parseCommonLexicon(f.json, `The lexicon file ${f.name}`);
      continue;
    }
    const lexicon = parseLexicon(f.json, `The lexicon file ${f.name}`);
    if (f.name !== `${lexicon.category}.json`)
      problems.push(`${f.name} holds the category "${lexicon.category}": name it ${lexicon.category}.json`);
    lexicons.push(lexicon);
  }
  if (!common) problems.push('common.json is missing');
  for (const c of RISK_CATEGORIES) if (!lexicons.some((l) => l.category === c)) problems.push(`${c}.json is missing`);
  if (problems.length > 0) throw invalid(`The lexicons are not complete: ${problems.join('; ')}`, { problems });
  lexicons.sort((a, b) => RISK_CATEGORIES.indexOf(a.category) - RISK_CATEGORIES.indexOf(b.category));
  return { common: common!, lexicons };
};

/** One version string for the set, e.g. for events and alerts: "common@1.0.0 suicide@1.2.0 …". */
export const lexiconSetVersion = (set: LexiconSet): string =>
  [`common@${set.common.version}`, ...set.lexicons.map((l) => `${l.category}@${l.version}`)].join(' ');
