/**
 * @module adapters — concrete implementations of core's ports around third-party libraries.
 */
export { argon2PasswordHasher } from './argon2-password-hasher.ts';
export { otplibTotp } from './otplib-totp.ts';
export { aesSecretBox } from './aes-secret-box.ts';
export * from './lists/index.ts';
export * from './ldap/index.ts';
