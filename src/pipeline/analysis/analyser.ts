/**
 * `createAnalyser(lexicons).analyse(text)`: does a search, URL or page title show a child may be
 * at risk? Every term, context and exception phrase is folded like the text and put, with its
 * spaces squashed out, into one character trie. Matching walks the forms of consecutive tokens
 * through it from each token start, so a term matches only whole tokens (no Scunthorpe problem)
 * however the text spaced or dotted it. Inside joined words (URL parts, hashtags, long runs)
 * only long terms are searched for, with exceptions ("therapist") taking precedence.
 *
 * Scoring: the highest severity wins (ties go to the more urgent category, RISK_CATEGORIES
 * order); help-seeking or study phrases lower a match by 3 (a first-person disclosure not below
 * 2), and severity 5 (imminent risk to life, child abuse) is never lowered.
 */
import { foldText, normalise, type Token } from './normalise.ts';
import { RISK_CATEGORIES, type LexiconSet, type RiskCategory, type Severity } from './lexicon.ts';

export interface AnalysisMatch {
  readonly category: RiskCategory;
  /** The lexicon's term, as written there. */
  readonly term: string;
  /** After context rules: 1–5. */
  readonly severity: Severity;
}

export interface Analysis {
  readonly risk: RiskCategory | 'none';
  readonly severity: 0 | Severity;
  /** Strongest first. */
  readonly matches: readonly AnalysisMatch[];
  /** A help-seeking phrase was in the text ("helpline", "how to help a friend"). */
  readonly helpSeeking: boolean;
}

export interface Analyser {
  analyse(text: string): Analysis;
  /** Number of terms loaded, per category. */
  readonly termCounts: Readonly<Record<RiskCategory, number>>;
}

/** Endings a word of a term may carry ("kills", "raped", "killin"; "cutting" doubles its t, so it is listed itself). */
const SUFFIXES = new Set(['s', 'es', 'ed', 'd', 'ing', 'ings', 'in', 'er', 'ers']);
/** Terms shorter than this (squashed) are never searched for inside joined words. */
const MIN_SUBSTRING = 6;
/** Tokens a phrase may span (a spaced-out "h o w t o k i l l m y s e l f" is 17). */
const MAX_SPAN = 24;
/** Reduction for help-seeking or study context. */
const CONTEXT_REDUCTION = 3;
const NONE: Analysis = Object.freeze({ risk: 'none', severity: 0, matches: Object.freeze([]), helpSeeking: false });

interface TermEntry {
  readonly kind: 0;
  readonly id: number;
  readonly category: RiskCategory;
  readonly categoryBit: number;
  readonly rank: number;
  readonly term: string;
  readonly severity: Severity;
  readonly disclosure: boolean;
  readonly substringOk: boolean;
  readonly unless: readonly number[] | null;
  readonly onlyWith: readonly number[] | null;
  readonly escalateWith: readonly number[] | null;
  readonly escalateTo: Severity;
}

interface ContextEntry {
  readonly kind: 1;
  readonly id: number;
  helpMask: number;
  studyMask: number;
  exception: boolean;
  readonly substringOk: boolean;
}

type Entry = TermEntry | ContextEntry;

interface TrieNode {
  next: Map<number, TrieNode> | null;
  out: Entry[] | null;
}

interface Hit {
  readonly entry: Entry;
  readonly start: number;
  readonly end: number;
  /** Found inside a joined word rather than on token boundaries. */
  readonly inside: boolean;
}

const squash = (phrase: string): string => foldText(phrase).replace(/[^\p{L}\p{N}]+/gu, '');

const deletions = (word: string): string[] => {
  const out: string[] = [];
  for (let i = 0; i < word.length; i++) out.push(word.slice(0, i) + word.slice(i + 1));
  return out;
};

export const createAnalyser = (set: LexiconSet): Analyser => {
  const root: TrieNode = { next: null, out: null };
  const insert = (key: string, entry: Entry) => {
    let node = root;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      node.next ??= new Map();
      let child = node.next.get(c);
      if (!child) {
        child = { next: null, out: null };
        node.next.set(c, child);
      }
      node = child;
    }
    (node.out ??= []).push(entry);
  };

  const contexts = new Map<string, ContextEntry>();
  const context = (phrase: string): ContextEntry => {
    const key = squash(phrase);
    let entry = contexts.get(key);
    if (!entry) {
      entry = { kind: 1, id: contexts.size, helpMask: 0, studyMask: 0, exception: false, substringOk: key.length >= 5 };
      contexts.set(key, entry);
      if (key) insert(key, entry);
    }
    return entry;
  };
  const ALL = (1 << RISK_CATEGORIES.length) - 1;
  for (const p of set.common.helpSeeking) context(p).helpMask = ALL;
  for (const p of set.common.study) context(p).studyMask = ALL;
  for (const p of set.common.exceptions) context(p).exception = true;

  const fuzzy = new Map<string, TermEntry[]>();
  const termCounts = Object.fromEntries(RISK_CATEGORIES.map((c) => [c, 0])) as Record<RiskCategory, number>;
  let termId = 0;
  for (const lexicon of set.lexicons) {
    const rank = RISK_CATEGORIES.indexOf(lexicon.category);
    const bit = 1 << rank;
    for (const p of lexicon.helpSeeking) context(p).helpMask |= bit;
    for (const p of lexicon.study) context(p).studyMask |= bit;
    for (const p of lexicon.exceptions) context(p).exception = true;
    for (const t of lexicon.terms) {
      const key = squash(t.term);
      if (!key) continue;
      const ids = (list: readonly string[] | undefined) => (list ? list.map((p) => context(p).id) : null);
      const entry: TermEntry = {
        kind: 0,
        id: termId++,
        category: lexicon.category,
        categoryBit: bit,
        rank,
        term: t.term,
        severity: t.severity,
        disclosure: t.disclosure === true,
        substringOk: t.wholeWord !== true && key.length >= MIN_SUBSTRING,
        unless: ids(t.unless),
        onlyWith: ids(t.onlyWith),
        escalateWith: ids(t.escalateWith),
        escalateTo: t.escalateTo ?? 5,
      };
      insert(key, entry);
      termCounts[lexicon.category]++;
      if (t.fuzzy) for (const k of [key, ...deletions(key)]) (fuzzy.get(k) ?? fuzzy.set(k, []).get(k)!).push(entry);
    }
  }
  const rewrites = new Map(Object.entries(set.common.rewrites).map(([from, to]) => [foldText(from), squash(to)]));
  const options = { rewrites };

  const emit = (hits: Hit[], out: readonly Entry[], start: number, end: number, inside: boolean, suffixed: boolean) => {
    for (const entry of out) {
      if (inside && !entry.substringOk) continue;
      if (suffixed && entry.kind === 0 && entry.term.length < 3) continue;
      hits.push({ entry, start, end, inside });
    }
  };

  /** From `node`, through the forms of tokens[t], and on into the next tokens while the trie goes on. */
  const walk = (tokens: readonly Token[], node: TrieNode, start: number, t: number, hits: Hit[]) => {
    const token = tokens[t]!;
    for (const form of token.forms) {
      let n: TrieNode | undefined = node;
      const last = form.length - 1;
      for (let j = 0; j <= last; j++) {
        n = n.next?.get(form.charCodeAt(j));
        if (!n) break;
        if (j < last && SUFFIXES.has(form.slice(j + 1))) {
          // "kills", "killin myself": the stem ends a term, or goes on into the next token.
          if (n.out) emit(hits, n.out, start, t, false, true);
          if (n.next && t + 1 < tokens.length && t - start < MAX_SPAN) walk(tokens, n, start, t + 1, hits);
        }
      }
      if (!n) continue;
      if (n.out) emit(hits, n.out, start, t, false, false);
      if (n.next && t + 1 < tokens.length && t - start < MAX_SPAN) walk(tokens, n, start, t + 1, hits);
    }
  };

  /** Inside a joined word: every start position, every end position, long entries only. */
  const walkInside = (token: Token, t: number, hits: Hit[]) => {
    for (const form of token.forms) {
      for (let k = 0; k < form.length - 3; k++) {
        let n: TrieNode | undefined = root;
        for (let j = k; j < form.length; j++) {
          n = n.next?.get(form.charCodeAt(j));
          if (!n) break;
          if (n.out && (k > 0 || j < form.length - 1)) emit(hits, n.out, t, t, true, false);
        }
      }
    }
  };

  const analyse = (text: string): Analysis => {
    const tokens = normalise(text, options);
    if (tokens.length === 0) return NONE;
    const hits: Hit[] = [];
    for (let t = 0; t < tokens.length; t++) {
      const before = hits.length;
      walk(tokens, root, t, t, hits);
      const token = tokens[t]!;
      if (token.compound) walkInside(token, t, hits);
      if (fuzzy.size > 0 && hits.length === before) {
        const form = token.forms[0]!;
        if (form.length >= 6 && form.length <= 24) {
          const near =
            fuzzy.get(form) ??
            deletions(form)
              .map((d) => fuzzy.get(d))
              .find((e) => e !== undefined);
          if (near) for (const entry of near) hits.push({ entry, start: t, end: t, inside: false });
        }
      }
    }
    if (hits.length === 0) return NONE;

    // Context first: which phrases were seen, help-seeking and study masks, exception spans.
    const seen = new Set<number>();
    let helpMask = 0;
    let studyMask = 0;
    const exceptions: Hit[] = [];
    for (const h of hits) {
      if (h.entry.kind !== 1) continue;
      seen.add(h.entry.id);
      helpMask |= h.entry.helpMask;
      studyMask |= h.entry.studyMask;
      if (h.entry.exception) exceptions.push(h);
    }
    const any = (ids: readonly number[]) => ids.some((id) => seen.has(id));
    const best = new Map<number, AnalysisMatch & { rank: number }>();
    for (const h of hits) {
      const e = h.entry;
      if (e.kind !== 0) continue;
      // Inside an exception ("sex education", "therapist"): not this term.
      if (exceptions.some((x) => x.start <= h.start && h.end <= x.end && x !== h && (!h.inside ? !x.inside : x.start === h.start)))
        continue;
      if (e.unless && any(e.unless)) continue;
      if (e.onlyWith && !any(e.onlyWith)) continue;
      let severity: number = e.escalateWith && any(e.escalateWith) ? Math.max(e.severity, e.escalateTo) : e.severity;
      if (severity < 5 && ((helpMask | studyMask) & e.categoryBit) !== 0) {
        severity -= CONTEXT_REDUCTION;
        if (e.disclosure) severity = Math.max(severity, 2);
      }
      if (severity <= 0) continue;
      const prior = best.get(e.id);
      if (!prior || prior.severity < severity)
        best.set(e.id, { category: e.category, term: e.term, severity: severity as Severity, rank: e.rank });
    }
    const helpSeeking = helpMask !== 0;
    if (best.size === 0) return helpSeeking ? { ...NONE, helpSeeking } : NONE;
    const ranked = [...best.values()].sort((a, b) => b.severity - a.severity || a.rank - b.rank);
    const top = ranked[0]!;
    return {
      risk: top.category,
      severity: top.severity,
      matches: ranked.map(({ category, term, severity }) => ({ category, term, severity })),
      helpSeeking,
    };
  };

  return { analyse, termCounts };
};
