/**
 * Entry point of the `haven` command (bundled to dist/haven.mjs by scripts/build.mjs).
 */
import { main } from './cli.ts';

await main(process.argv);
