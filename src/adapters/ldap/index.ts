/**
 * @module adapters/ldap — proxy authentication against Active Directory or OpenLDAP.
 */
export * from './ldap-authenticator.ts';
