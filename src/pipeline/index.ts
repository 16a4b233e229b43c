/**
 * @module pipeline — monitoring: ingest → rules → alerts → notify, and rollups. Built so far: risk
 * analysis of search terms, URLs and titles (`analysis/`); the rest is not built yet, and
 * `haven serve --role worker` says so.
 */
export * from './analysis/index.ts';
