/**
 * The IWF URL List: one entry per line, either plain URLs ("example.com/path", scheme optional)
 * or, in the hashed form, one hex digest per line of the normalised URL (SHA-256 or MD5, told
 * apart by length). Both forms may be mixed in one file. See docs/decisions/0006-illegal-tier.md.
 */
import type { IllegalListLoad } from '../../core/index.ts';
import { readIllegalListFile } from './illegal-list-reader.ts';

export const loadIwfList = (file: string): Promise<IllegalListLoad> => readIllegalListFile(file, 'iwf');
