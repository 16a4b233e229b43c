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
const MAX_SUFFIX = 4;
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
  /** Words in the phrase: an exception must not be spelt across more tokens ("the rapist" is not "therapist"). */
  words: number;
}

type Entry = TermEntry | ContextEntry;

/**
 * A character trie in typed arrays: node 0 is the root, and finding a child is one probe (or a
 * few) into an open-addressed table keyed by (node, char code). Built once; read on the hot path.
 */
class CharTrie {
  private parents = new Int32Array(1 << 12).fill(-1);
  private chars = new Int32Array(1 << 12);
  private kids = new Int32Array(1 << 12);
  private used = 0;
  /** Entries ending at each node. */
  readonly out: (Entry[] | null)[] = [null];
  /** Whether each node has children (a walk can go on). */
  readonly branches: boolean[] = [false];

  private slot(node: number, c: number): number {
    const parents = this.parents;
    const chars = this.chars;
    const mask = parents.length - 1;
    // Mix both halves well: sequential node ids and nearby char codes must not cluster.
    let h = Math.imul(node ^ Math.imul(c, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    let i = h & mask;
    for (let p = parents[i]!; p !== -1 && (p !== node || chars[i] !== c); p = parents[i]!) i = (i + 1) & mask;
    return i;
  }

  /** The child of `node` by char code `c`, or -1. */
  child(node: number, c: number): number {
    const i = this.slot(node, c);
    return this.parents[i] === -1 ? -1 : this.kids[i]!;
  }

  private grow(): void {
    const { parents, chars, kids } = this;
    this.parents = new Int32Array(parents.length * 2).fill(-1);
    this.chars = new Int32Array(parents.length * 2);
    this.kids = new Int32Array(parents.length * 2);
    for (let i = 0; i < parents.length; i++) {
      if (parents[i] === -1) continue;
      const j = this.slot(parents[i]!, chars[i]!);
      this.parents[j] = parents[i]!;
      this.chars[j] = chars[i]!;
      this.kids[j] = kids[i]!;
    }
  }

  /** Nodes with one child: its char code (-1 otherwise) and the child. Most nodes of long terms. */
  private onlyChar = new Int32Array(0);
  private onlyKid = new Int32Array(0);
  /** Nodes with three or more children: where their flat table by ASCII code starts in `denseKids` (-1: none). */
  private denseAt = new Int32Array(0);
  private denseKids = new Int32Array(0);

  /** Builds the fast paths; call once, after the last insert. */
  freeze(): void {
    const count = this.out.length;
    const fanOut = new Int32Array(count);
    for (let i = 0; i < this.parents.length; i++) if (this.parents[i] !== -1) fanOut[this.parents[i]!]!++;
    this.onlyChar = new Int32Array(count).fill(-1);
    this.onlyKid = new Int32Array(count);
    this.denseAt = new Int32Array(count).fill(-1);
    let tables = 0;
    for (let node = 0; node < count; node++) if (fanOut[node]! >= 3) this.denseAt[node] = 128 * tables++;
    this.denseKids = new Int32Array(128 * tables).fill(-1);
    for (let i = 0; i < this.parents.length; i++) {
      const node = this.parents[i]!;
      if (node === -1) continue;
      if (fanOut[node] === 1) {
        this.onlyChar[node] = this.chars[i]!;
        this.onlyKid[node] = this.kids[i]!;
      } else if (this.denseAt[node] !== -1 && this.chars[i]! < 128) this.denseKids[this.denseAt[node]! + this.chars[i]!] = this.kids[i]!;
    }
  }

  /** The child of `node` by `c`, or -1, by the quickest path. */
  step(node: number, c: number): number {
    const only = this.onlyChar[node]!;
    if (only !== -1) return only === c ? this.onlyKid[node]! : -1;
    const at = this.denseAt[node]!;
    if (at !== -1 && c < 128) return this.denseKids[at + c]!;
    return this.child(node, c);
  }

  insert(key: string, entry: Entry): void {
    let node = 0;
    for (let k = 0; k < key.length; k++) {
      const c = key.charCodeAt(k);
      let next = this.child(node, c);
      if (next === -1) {
        if ((this.used + 1) * 2 > this.parents.length) this.grow();
        next = this.out.length;
        this.out.push(null);
        this.branches.push(false);
        this.branches[node] = true;
        const i = this.slot(node, c);
        this.parents[i] = node;
        this.chars[i] = c;
        this.kids[i] = next;
        this.used++;
      }
      node = next;
    }
    (this.out[node] ??= []).push(entry);
  }
}

interface Hit {
  readonly entry: Entry;
  readonly start: number;
  readonly end: number;
  /** Found inside a joined word rather than on token boundaries. */
  readonly inside: boolean;
}

const squash = (phrase: string): string => foldText(phrase).replace(/[^\p{L}\p{N}]+/gu, '');

/** Letters present, as bits: two words one edit apart differ by at most one letter each way. */
const letterMask = (word: string): number => {
  let mask = 0;
  for (let i = 0; i < word.length; i++) mask |= 1 << (word.charCodeAt(i) & 31);
  return mask;
};

const bitCount = (n: number): number => {
  let count = 0;
  for (let v = n; v !== 0; v &= v - 1) count++;
  return count;
};

/** Damerau–Levenshtein distance ≤ 1 (one insertion, deletion, substitution or swap of neighbours). */
export const withinOneEdit = (a: string, b: string): boolean => {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // substitution
    return i + 1 < la && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // swap
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
};

interface FuzzyTerm {
  readonly key: string;
  readonly mask: number;
  readonly entry: TermEntry;
}

export const createAnalyser = (set: LexiconSet): Analyser => {
  const trie = new CharTrie();
  const insert = (key: string, entry: Entry) => trie.insert(key, entry);
  const { out, branches } = trie;

  const contexts = new Map<string, ContextEntry>();
  const context = (phrase: string): ContextEntry => {
    const key = squash(phrase);
    const words = foldText(phrase)
      .split(/[^\p{L}\p{N}]+/u)
      .filter(Boolean).length;
    let entry = contexts.get(key);
    if (!entry) {
      entry = { kind: 1, id: contexts.size, helpMask: 0, studyMask: 0, exception: false, substringOk: key.length >= 5, words };
      contexts.set(key, entry);
      if (key) insert(key, entry);
    }
    entry.words = Math.max(entry.words, words);
    return entry;
  };
  const ALL = (1 << RISK_CATEGORIES.length) - 1;
  for (const p of set.common.helpSeeking) context(p).helpMask = ALL;
  for (const p of set.common.study) context(p).studyMask = ALL;
  for (const p of set.common.exceptions) context(p).exception = true;

  const fuzzy: FuzzyTerm[] = [];
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
      if (t.fuzzy) fuzzy.push({ key, mask: letterMask(key), entry });
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
  trie.freeze();

  /**
   * From `node`, through `form` (the spelling of tokens[t] being tried) from its character `from`,
   * and on into the next tokens while the trie goes on. The second letter of a double is tried
   * both as itself and as a repeat to skip ("suiicide" → "suicide", but "kill" stays "kill").
   */
  const walkForm = (tokens: readonly Token[], form: string, from: number, node: number, start: number, t: number, hits: Hit[]): void => {
    const goOn = t + 1 < tokens.length && t - start < MAX_SPAN;
    const last = form.length - 1;
    let n = node;
    for (let j = from; j <= last; j++) {
      const c = form.charCodeAt(j);
      const repeat = j > 0 && c === form.charCodeAt(j - 1);
      const next = trie.step(n, c);
      if (next === -1) {
        if (repeat) continue;
        return;
      }
      // Branch only on the second letter of a run: a long run cannot multiply the paths.
      if (repeat && j > from && (j < 2 || form.charCodeAt(j - 2) !== c)) walkForm(tokens, form, j + 1, n, start, t, hits);
      n = next;
      if (j < last && last - j <= MAX_SUFFIX && (out[n] !== null || branches[n]) && SUFFIXES.has(form.slice(j + 1))) {
        // "kills", "killin myself": the stem ends a term, or goes on into the next token.
        const o = out[n];
        if (o) emit(hits, o, start, t, false, true);
        if (branches[n] && goOn) walk(tokens, n, start, t + 1, hits);
      }
    }
    const o = out[n];
    if (o) emit(hits, o, start, t, false, false);
    if (branches[n] && goOn) walk(tokens, n, start, t + 1, hits);
  };

  const walk = (tokens: readonly Token[], node: number, start: number, t: number, hits: Hit[]): void => {
    const forms = tokens[t]!.forms;
    for (let f = 0; f < forms.length; f++) walkForm(tokens, forms[f]!, 0, node, start, t, hits);
  };

  /** Inside a joined word: every start position, every end position, long entries only. */
  const walkInside = (token: Token, t: number, hits: Hit[]) => {
    for (const form of token.forms) {
      for (let k = 0; k < form.length - 3; k++) {
        let n = 0;
        for (let j = k; j < form.length; j++) {
          const c = form.charCodeAt(j);
          const next = trie.step(n, c);
          if (next === -1) {
            if (j > k && c === form.charCodeAt(j - 1)) continue;
            break;
          }
          n = next;
          const o = out[n];
          if (o && (k > 0 || j < form.length - 1)) emit(hits, o, t, t, true, false);
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
      walk(tokens, 0, t, t, hits);
      const token = tokens[t]!;
      if (token.compound) walkInside(token, t, hits);
      if (fuzzy.length > 0 && hits.length === before) {
        // One edit from a long, distinctive term ("sucide"); the letter masks skip nearly every word cheaply.
        const form = token.forms[0]!;
        if (form.length >= 5 && form.length <= 24) {
          const mask = letterMask(form);
          for (const f of fuzzy) {
            if (bitCount(mask & ~f.mask) > 1 || bitCount(f.mask & ~mask) > 1) continue;
            if (withinOneEdit(form, f.key)) hits.push({ entry: f.entry, start: t, end: t, inside: false });
          }
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
      if (h.entry.exception && (h.inside || h.end - h.start < h.entry.words)) exceptions.push(h);
    }
    const any = (ids: readonly number[]) => ids.some((id) => seen.has(id));
    const best = new Map<number, AnalysisMatch & { rank: number }>();
    for (const h of hits) {
      const e = h.entry;
      if (e.kind !== 0) continue;
      // Inside an exception ("sex education", "therapist"): not this term.
      // A joined word's hits give way to any exception in that word; whole words only to whole-word exceptions.
      if (exceptions.some((x) => x.start <= h.start && h.end <= x.end && (h.inside || !x.inside))) continue;
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
