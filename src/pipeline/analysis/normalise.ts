/**
 * The normaliser for search terms, URLs and page titles: it undoes the tricks children use to
 * get past keyword lists, so the lexicons can be written in plain words. It is on the monitoring
 * hot path: plain ASCII takes a loop over char codes, and the Unicode work (NFKC, marks,
 * look-alikes, invisible characters) runs only when the text is not ASCII.
 *
 * The output is a list of tokens, each with a few candidate spellings ("forms"): the text as
 * typed (folded), leetspeak read back (1 as i and as l), runs of a letter cut to two
 * ("killlll" → "kill"), and text-speak rewritten. The matcher tries a double both ways, so
 * "kill", "cool" and "suiicide" → "suicide" all work. The matcher (lexicon-matcher.ts) walks the forms of consecutive
 * tokens through a trie with the spaces squashed out, so "k i l l my self", "k.i.l.l myself" and
 * "killmyself" reach the same entry while "skill" and "Essex" never reach "kill" or "sex".
 */

/** Longest input read, in UTF-16 units: enough for any query, URL or title, bounded work. */
export const MAX_INPUT_LENGTH = 2048;
/** Tokens kept per input: a page title or URL longer than this is cut, not rejected. */
const MAX_TOKENS = 96;
/** Longest token kept; longer runs (base64, hashes) are cut. */
const MAX_TOKEN_LENGTH = 64;

export interface Token {
  /** Candidate spellings, most likely first; never empty, no duplicates. */
  readonly forms: readonly string[];
  /** Joined words with no separators (a host label, a URL slug, a hashtag, a long run): searched inside as well. */
  readonly compound: boolean;
}

export interface NormaliseOptions {
  /** Text-speak and common misspellings: a whole token → its plain spelling (may be several words). */
  readonly rewrites?: ReadonlyMap<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Folding: case, compatibility forms, marks, look-alikes, invisible characters

/**
 * Look-alikes NFKC leaves alone: Cyrillic and Greek letters that look Latin, and Latin letters
 * without a decomposition. Only the common ones (after Unicode's confusables.txt); a child typing
 * whole words in Russian or Greek is outside the languages the lexicons cover anyway.
 */
// prettier-ignore
const CONFUSABLES: Readonly<Record<string, string>> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', з: '3', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ї: 'i', ј: 'j', һ: 'h', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l', ь: 'b', ц: 'u', п: 'n', л: 'n', и: 'u',
  г: 'r', д: 'd', ж: 'x', ш: 'w', щ: 'w', ы: 'bl', э: 'e', ю: 'io', я: 'r', ґ: 'r', є: 'e', ў: 'y',
  // Greek
  α: 'a', β: 'b', γ: 'y', δ: 'd', ε: 'e', ζ: 'z', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', σ: 's', ς: 's',
  τ: 't', υ: 'u', χ: 'x', ω: 'w', μ: 'u', θ: 'o', λ: 'l', π: 'n', φ: 'o', ψ: 'w',
  // Latin letters with no decomposition, and a few symbols used as letters
  ł: 'l', ø: 'o', đ: 'd', ħ: 'h', ı: 'i', ß: 'ss', æ: 'ae', œ: 'oe', þ: 'th', ð: 'd', ŀ: 'l', ɑ: 'a', ɡ: 'g', ʀ: 'r',
  ɪ: 'i', ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ɢ: 'g', ʜ: 'h', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm', ɴ: 'n', ᴏ: 'o',
  ᴘ: 'p', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z', '€': 'e', '£': 'l', '¡': 'i', '×': 'x',
  // Arabic script: one spelling for letters Urdu and Arabic write differently
  ي: 'ی', ى: 'ی', ئ: 'ی', ك: 'ک', ہ: 'ه', ھ: 'ه', ة: 'ه', ۃ: 'ه', ۓ: 'ے', أ: 'ا', إ: 'ا', آ: 'ا', ٱ: 'ا', ؤ: 'و',
};

/** Zero-width and other invisible characters people slip inside words. */
const INVISIBLE =
  /[\u00ad\u034f\u061c\u0640\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]/g;
const MARKS = /\p{M}/gu;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Lower case, compatibility forms (full-width, ligatures, circled and mathematical letters),
 * accents and other marks removed, look-alikes to Latin, invisible characters removed. The
 * lexicons' own terms go through this too, so a term and the text agree.
 */
export const foldText = (input: string): string => {
  if (!NON_ASCII.test(input)) return input.toLowerCase();
  let s = input.normalize('NFKC').replace(INVISIBLE, '').toLowerCase();
  // Look-alikes before marks: "ё" and "ї" are in the table whole, and Arabic hamza forms decompose.
  let mapped = '';
  for (const ch of s) mapped += CONFUSABLES[ch] ?? ch;
  s = mapped.normalize('NFKD').replace(MARKS, '');
  if (NON_ASCII.test(s)) {
    mapped = '';
    for (const ch of s) mapped += CONFUSABLES[ch] ?? ch;
    s = mapped;
  }
  return s;
};

// ---------------------------------------------------------------------------------------------
// URLs

const URL_START = /^(?:[a-z][a-z0-9+.-]{1,15}:\/\/|www\.)/i;
/** "host.tld/path" without a scheme, and no spaces: still a URL (the host part is tested alone, at most 253 characters). */
const BARE_HOST = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?$/i;
const isBareUrl = (s: string): boolean => {
  const slash = s.indexOf('/');
  return slash > 3 && slash <= 253 && BARE_HOST.test(s.slice(0, slash));
};
/** Query parameters that hold what someone typed (search engines, video sites, shops, forums). */
const TEXT_PARAMS = new Set([
  'q',
  'query',
  'search',
  'search_query',
  'p',
  'text',
  'term',
  'terms',
  'keyword',
  'keywords',
  'k',
  'wd',
  'qs',
  'kw',
  's',
  'searchterm',
  'title',
]);
/** Host labels that say nothing about content. */
const HOST_NOISE = new Set([
  'www',
  'm',
  'mobile',
  'en',
  'com',
  'co',
  'uk',
  'org',
  'net',
  'ac',
  'gov',
  'edu',
  'sch',
  'io',
  'html',
  'htm',
  'php',
  'aspx',
]);

const ENCODED_RUN = /(?:%[0-9a-f]{2})+/gi;

const decodeRun = (run: string): string => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8');

/** Percent-decoding that never throws: invalid UTF-8 becomes U+FFFD, a stray % stays. Twice, for double encoding. */
export const percentDecode = (s: string): string => {
  let out = s;
  for (let round = 0; round < 2 && out.includes('%'); round++) {
    const next = out.replace(ENCODED_RUN, decodeRun);
    if (next === out) break;
    out = next;
  }
  return out;
};

/**
 * The words in a URL worth reading: host labels (not "www" or the TLD), path segments, and the
 * values of query parameters that carry typed text (a search engine's q, YouTube's
 * search_query). Other parameters (ids, tracking) are skipped: they are noise that could spell
 * anything. Null when the input is not a URL.
 */
export const wordsOfUrl = (input: string): string | null => {
  const s = input.trim();
  if (s.includes(' ') || !(URL_START.test(s) || isBareUrl(s))) return null;
  let rest = s.replace(/^[a-z][a-z0-9+.-]{1,15}:\/\//i, '');
  const hashAt = rest.indexOf('#');
  let fragment = '';
  if (hashAt >= 0) {
    fragment = rest.slice(hashAt + 1);
    rest = rest.slice(0, hashAt);
  }
  const queryAt = rest.indexOf('?');
  const query = queryAt >= 0 ? rest.slice(queryAt + 1) : '';
  const hostAndPath = queryAt >= 0 ? rest.slice(0, queryAt) : rest;
  const slash = hostAndPath.indexOf('/');
  const host = (slash >= 0 ? hostAndPath.slice(0, slash) : hostAndPath).replace(/^[^@]*@/, '').replace(/:\d+$/, '');
  const path = slash >= 0 ? hostAndPath.slice(slash + 1) : '';
  const parts: string[] = [];
  for (const label of host.toLowerCase().split('.')) if (label && !HOST_NOISE.has(label)) parts.push(label);
  for (const segment of path.split('/')) {
    if (!segment) continue;
    // A file name's extension is not a word; separators in slugs are.
    parts.push(percentDecode(segment.replace(/\.(?:html?|php|aspx?|jsp)$/i, '')).replace(/[-_+.]/g, ' '));
  }
  for (const pair of (query + (fragment.includes('=') ? `&${fragment}` : '')).split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    if (!TEXT_PARAMS.has(pair.slice(0, eq).toLowerCase())) continue;
    parts.push(percentDecode(pair.slice(eq + 1).replace(/\+/g, ' ')));
  }
  if (!fragment.includes('=') && fragment) parts.push(percentDecode(fragment).replace(/[-_+.]/g, ' '));
  return parts.join(' ');
};

// ---------------------------------------------------------------------------------------------
// Tokens and their forms

/** Leetspeak: what a digit or symbol stands for inside a word. '1' is i or l, so it has its own form. */
// prettier-ignore
const LEET: Readonly<Record<string, string>> = {
  '0': 'o', '1': 'i', '2': 'z', '3': 'e', '4': 'a', '5': 's', '6': 'g', '7': 't', '8': 'b', '9': 'g', '@': 'a', $: 's', '!': 'i', '|': 'l', '€': 'e', '+': 't',
};
const isLeetSymbol = (c: number) => c === 64 /* @ */ || c === 36 /* $ */ || c === 33 /* ! */ || c === 124 /* | */ || c === 43; /* + */
const isDigit = (c: number) => c >= 48 && c <= 57;
const isAsciiLetter = (c: number) => c >= 97 && c <= 122;
const LETTER = /\p{L}/u;
const TRAILING_NUMBER = /^[a-z]+[0-9]+$/;

const hasLongRun = (s: string): boolean => {
  for (let i = 2; i < s.length; i++) if (s.charCodeAt(i) === s.charCodeAt(i - 1) && s.charCodeAt(i) === s.charCodeAt(i - 2)) return true;
  return false;
};

const collapseRuns = (s: string): string => {
  let out = '';
  for (let i = 0; i < s.length; i++)
    if (i < 2 || s.charCodeAt(i) !== s.charCodeAt(i - 1) || s.charCodeAt(i) !== s.charCodeAt(i - 2)) out += s.charAt(i);
  return out;
};

const pushForm = (forms: string[], f: string) => {
  if (f && !forms.includes(f)) forms.push(f);
};

/** Forms of one raw token (already folded; may hold digits and leet symbols). */
const formsOf = (raw: string, rewrites: ReadonlyMap<string, string> | undefined): string[] => {
  const forms: string[] = [];
  let letters = 0;
  let leet = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (isDigit(c) || isLeetSymbol(c)) leet++;
    else letters++;
  }
  const bare = leet > 0 && letters > 0 ? raw.replace(/[@$!|+]/g, '') : raw;
  const rewritten = rewrites?.get(bare);
  if (rewritten !== undefined) pushForm(forms, rewritten);
  // Numbers stay numbers ("2024", "999") but keep a leet reading when short: a lone digit may be a
  // spaced-out letter ("5 u 1 c 1 d 3"), two may be a word ("h0w 70 k1ll").
  const symbolsOnly = letters === 0 && !/[0-9]/.test(raw);
  const shortNumber = letters === 0 && !symbolsOnly && raw.length <= 3;
  if (shortNumber) pushForm(forms, raw);
  if (leet > 0 && (letters > 0 || shortNumber || symbolsOnly)) {
    // "year7", "gcse2024": a word and a number, read as typed first; "k1ll", "$uicide": leet first.
    const numberAfterWord = TRAILING_NUMBER.test(raw);
    if (numberAfterWord) pushForm(forms, bare);
    let asI = '';
    for (const ch of raw) asI += LEET[ch] ?? ch;
    pushForm(forms, rewrites?.get(asI) ?? asI);
    if (raw.includes('1'))
      pushForm(
        forms,
        asI.replace(/i/g, (m, at: number) => (raw[at] === '1' ? 'l' : m)),
      );
    pushForm(forms, bare);
  } else pushForm(forms, raw);
  // Runs of three or more also as two ("killlll" → "kill", "suiiicide" → "suiicide"; "xxx" stays
  // too); the matcher may skip the second of a double, so "kill" and "suicide" both come out.
  const typed = forms.length;
  for (let i = 0; i < typed; i++) if (hasLongRun(forms[i]!)) pushForm(forms, collapseRuns(forms[i]!));
  if (rewrites && forms.length > 1)
    for (const f of forms.slice(1)) {
      const r = rewrites.get(f);
      if (r !== undefined) pushForm(forms, r);
    }
  return forms;
};

/**
 * Splits folded text into tokens. Word characters are letters (any script) and digits; leet
 * symbols (@ $ ! | +) count inside a word; apostrophes vanish ("assassin's" → "assassins");
 * everything else separates. Every token of a URL is a compound (host labels, slugs).
 */
const tokenise = (text: string, options: NormaliseOptions, fromUrl: boolean): Token[] => {
  const tokens: Token[] = [];
  let start = -1;
  let apostrophe = false;
  let symbols = false;
  let wordChars = false;
  let hashtag = false;
  const flush = (end: number) => {
    if (start < 0) return;
    let raw = text.slice(start, end);
    if (apostrophe) raw = raw.replace(/['\u2019]/g, '');
    if (raw.length > MAX_TOKEN_LENGTH) raw = raw.slice(0, MAX_TOKEN_LENGTH);
    start = -1;
    apostrophe = false;
    // A lone "@" or "$" is a letter ("how to m@ke @ bomb"); other symbols alone are punctuation.
    const keep = wordChars || raw === '@' || raw === '$';
    if (keep && symbols) raw = raw.replace(/^[!|+]+|[!|+]+$/g, '') || raw; // "help!": the ! is punctuation
    symbols = false;
    wordChars = false;
    if (keep) tokens.push({ forms: formsOf(raw, options.rewrites), compound: fromUrl || hashtag || raw.length >= 10 });
    hashtag = false;
  };
  for (let i = 0; i < text.length && tokens.length < MAX_TOKENS; i++) {
    const c = text.charCodeAt(i);
    if (isAsciiLetter(c) || isDigit(c) || (c > 127 && c !== 0x2019 && LETTER.test(text.charAt(i)))) {
      if (start < 0) start = i;
      wordChars = true;
    } else if (isLeetSymbol(c)) {
      if (start < 0) start = i;
      symbols = true;
    } else if ((c === 39 || c === 0x2019) && start >= 0) {
      apostrophe = true; // inside a word: dropped, the word goes on ("assassin's" → "assassins")
    } else {
      flush(i);
      if (c === 35 /* # */) hashtag = true;
    }
  }
  flush(text.length);
  return tokens;
};

/** Text (a search, a URL, a title) → tokens with their forms. Never throws; bounded work. */
export const normalise = (input: string, options: NormaliseOptions = {}): Token[] => {
  const text = input.length > MAX_INPUT_LENGTH ? input.slice(0, MAX_INPUT_LENGTH) : input;
  const url = wordsOfUrl(text);
  if (url !== null) return tokenise(foldText(url), options, true);
  const decoded = text.includes('%') ? percentDecode(text) : text;
  return tokenise(foldText(decoded), options, false);
};

/** The first form of each token, space-joined: for tests, docs and debugging. */
export const normalisedText = (input: string, options: NormaliseOptions = {}): string =>
  normalise(input, options)
    .map((t) => t.forms[0])
    .join(' ');
