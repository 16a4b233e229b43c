/**
 * The CTIRU list (Counter Terrorism Internet Referral Unit, via the Home Office): plain URLs, one
 * per line. Read with the same tolerant reader as the IWF list, so a hashed line is accepted too.
 * See docs/decisions/0006-illegal-tier.md.
 */
import type { IllegalListLoad } from '../../core/index.ts';
import { readIllegalListFile } from './illegal-list-reader.ts';

export const loadCtiruList = (file: string): Promise<IllegalListLoad> => readIllegalListFile(file, 'ctiru');
