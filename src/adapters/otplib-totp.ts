import { generate, generateSecret, generateURI, verify } from 'otplib';
import type { Clock, TotpProvider } from '../core/index.ts';

/**
 * RFC 6238 TOTP, 6 digits, 30 s steps; one step either side for clock drift. Time comes from the
 * injected clock, so tests can move it.
 */
export const otplibTotp = (clock: Clock = { now: () => new Date() }): TotpProvider => {
  const epoch = () => Math.floor(clock.now().getTime() / 1000);
  return {
    generateSecret: () => generateSecret(),
    keyUri: (secret, account, issuer) => generateURI({ issuer, label: account, secret }),
    async verify(secret, code, afterStep) {
      if (!/^\d{6}$/.test(code)) return null;
      try {
        const result = await verify({
          secret,
          token: code,
          epoch: epoch(),
          epochTolerance: 30,
          ...(afterStep !== null && afterStep !== undefined && { afterTimeStep: afterStep }),
        });
        return result.valid && 'timeStep' in result ? result.timeStep : null;
      } catch {
        return null;
      }
    },
    generate: (secret) => generate({ secret, epoch: epoch() }),
  };
};
