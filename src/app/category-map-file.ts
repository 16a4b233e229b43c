/** The category map shipped with Haven (data/category-map.json): which source lists feed which category. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CATEGORY_IDS, parseCategoryMap, type CategoryMap } from '../core/index.ts';
import { packageRoot } from './package-info.ts';

export const categoryMapPath = (): string => path.join(packageRoot(), 'data', 'category-map.json');

export const loadCategoryMap = (file = categoryMapPath()): CategoryMap =>
  parseCategoryMap(JSON.parse(readFileSync(file, 'utf8')), { categories: CATEGORY_IDS });
