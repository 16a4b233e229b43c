/** Finding a school from what an admin types at the command line: its id, URN or exact name. */
import { DomainError } from '../core/index.ts';
import type { Haven } from './compose.ts';

export const resolveSchoolId = async (haven: Haven, ref: string): Promise<string> => {
  const schools = await haven.services.deps.store.tenancy.listSchools('all');
  const match = schools.find((s) => s.id === ref || s.urn === ref || s.name.toLowerCase() === ref.toLowerCase());
  if (!match)
    throw new DomainError(
      'SCHOOL_NOT_FOUND',
      `No school matches "${ref}" (give its id, URN or exact name). Schools: ${schools.map((s) => s.name).join(', ') || 'none'}`,
      404,
    );
  return match.id;
};
