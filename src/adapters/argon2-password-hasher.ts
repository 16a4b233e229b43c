import { hash, verify } from '@node-rs/argon2';
import type { PasswordHasher } from '../core/index.ts';

/** argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane); ~60 ms on this class of machine. */
const OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const argon2PasswordHasher = (): PasswordHasher => ({
  hash: (password) => hash(password, OPTIONS),
  async verify(stored, password) {
    try {
      return await verify(stored, password);
    } catch {
      return false; // a malformed stored hash never lets anyone in
    }
  },
});
