/**
 * First start: a trust, and a first administrator when there are no users. The administrator
 * comes from HAVEN_BOOTSTRAP_ADMIN_EMAIL / _PASSWORD, or gets a random password printed once.
 */
import { generatePassword } from './auth-service.ts';
import { systemContext, type ServiceDeps } from './context.ts';
import { createTenancyService } from './tenancy-service.ts';
import { createUserService } from './user-service.ts';

export interface BootstrapResult {
  createdAdmin: null | { email: string; password: string | null; generated: boolean };
}

export const bootstrap = async (
  deps: ServiceDeps,
  options: { trustName: string; adminEmail?: string | undefined; adminPassword?: string | undefined },
): Promise<BootstrapResult> => {
  await createTenancyService(deps).ensureTrust(options.trustName);
  if ((await deps.store.users.count()) > 0) return { createdAdmin: null };
  const email = (options.adminEmail?.trim() || 'admin@haven.local').toLowerCase();
  const generated = !options.adminPassword;
  const password = options.adminPassword || generatePassword();
  const users = createUserService(deps);
  const { user } = await users.create(systemContext('bootstrap'), {
    email,
    displayName: 'Haven administrator',
    grants: [{ role: 'admin', schoolId: null }],
    password,
  });
  // A printed password has been seen on a console: make its owner choose their own.
  if (generated) await deps.store.users.update(user.id, { mustChangePassword: true }, deps.clock.now().toISOString());
  return { createdAdmin: { email, password: generated ? password : null, generated } };
};
