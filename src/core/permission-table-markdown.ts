/**
 * The permission table as Markdown, for docs/ARCHITECTURE.md (a test keeps the two in step).
 */
import { PERMISSIONS, type Action, type ResourceType } from './rbac.ts';
import { ROLES } from './roles.ts';

export const permissionTableMarkdown = (): string => {
  const lines = ['| resource | action | roles |', '|---|---|---|'];
  for (const [resource, actions] of Object.entries(PERMISSIONS) as [ResourceType, Partial<Record<Action, readonly string[]>>][]) {
    for (const [action, roles] of Object.entries(actions) as [Action, readonly string[]][]) {
      const who = roles.length === ROLES.length ? 'everyone signed in' : roles.map((r) => `\`${r}\``).join(', ');
      lines.push(`| ${resource} | ${action} | ${who} |`);
    }
  }
  return lines.join('\n');
};
