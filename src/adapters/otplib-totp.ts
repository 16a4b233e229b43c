import { generate, generateSecret, generateURI, verify } from 'otplib';
import type { TotpProvider } from '../core/index.ts';

/** RFC 6238 TOTP, 6 digits, 30 s steps; one step either side for clock drift. */
export const otplibTotp = (): TotpProvider => ({
  generateSecret: () => generateSecret(),
  keyUri: (secret, account, issuer) => generateURI({ issuer, label: account, secret }),
  async verify(secret, code) {
    if (!/^\d{6}$/.test(code)) return false;
    try {
      return (await verify({ secret, token: code, epochTolerance: 30 })).valid;
    } catch {
      return false;
    }
  },
  generate: (secret) => generate({ secret }),
});
