/**
 * @module app — the composition root and the `haven` CLI.
 */
export { openHaven, systemClock, type Haven } from './compose.ts';
export { loadConfig, type HavenConfig } from './config.ts';
export { buildCli, main } from './cli.ts';
