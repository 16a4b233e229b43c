/** Risk analysis of search terms, URLs and page titles: normaliser, lexicons, scoring. */
export {
  foldText,
  normalise,
  normalisedText,
  percentDecode,
  wordsOfUrl,
  MAX_INPUT_LENGTH,
  type Token,
  type NormaliseOptions,
} from './normalise.ts';
export {
  isRiskCategory,
  lexiconSetVersion,
  parseCommonLexicon,
  parseLexicon,
  parseLexiconSet,
  LEXICON_LANGUAGES,
  RISK_CATEGORIES,
  type CommonLexicon,
  type Lexicon,
  type LexiconLanguage,
  type LexiconSet,
  type LexiconTerm,
  type RiskCategory,
  type Severity,
} from './lexicon.ts';
export { createAnalyser, type Analyser, type Analysis, type AnalysisMatch } from './analyser.ts';
