/**
 * @module core — Haven's pure domain: roles and the permission table, people and groups,
 * the audit chain, errors and the ports everything else implements. No I/O here.
 */
export * from './errors.ts';
export * from './roles.ts';
export * from './rbac.ts';
export * from './people.ts';
export * from './audit.ts';
export * from './ports.ts';
export * from './person-validation.ts';
export * from './policy/index.ts';
export { permissionTableMarkdown } from './permission-table-markdown.ts';
export * from './lists-ports.ts';
export * from './category-map.ts';
export * from './illegal-tier.ts';
export * from './classify/index.ts';
export * from './classification-engine.ts';
export * from './events.ts';
export * from './identity.ts';
export * from './safesearch.ts';
export * from './circumvention.ts';
export * from './dhcp-leases.ts';
export * from './search-terms.ts';
