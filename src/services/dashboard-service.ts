/**
 * The home screen's figures, limited to what the asking user may see. Later parts of Haven
 * (filtering, monitoring, incidents) add their own cards.
 */
import { can, schoolsFor } from '../core/index.ts';
import type { RequestContext, ServiceDeps } from './context.ts';

export const createDashboardService = (deps: ServiceDeps) => {
  const { store } = deps;
  return {
    async summary(ctx: RequestContext) {
      const schoolIds = schoolsFor(ctx.actor, 'read', 'school');
      const schools = await store.tenancy.listSchools(schoolIds);
      const peopleScope = schoolsFor(ctx.actor, 'read', 'person');
      const groupScope = schoolsFor(ctx.actor, 'read', 'group');
      return {
        trust: await store.tenancy.getTrust(),
        schoolCount: schools.length,
        schools: schools.map((s) => ({ id: s.id, name: s.name })),
        people: await store.people.countByKind(peopleScope),
        groupCount: await store.groups.count(groupScope),
        userCount: can(ctx.actor, 'read', { type: 'user' }) ? await store.users.count() : null,
      };
    },
  };
};

export type DashboardService = ReturnType<typeof createDashboardService>;
