/**
 * Starts the web role: the API and the web app on HAVEN_HOST:HAVEN_WEB_PORT.
 */
import path from 'node:path';
import { buildApi, type DohHandler } from '../api/index.ts';
import type { Haven } from './compose.ts';
import { packageRoot, packageVersion } from './package-info.ts';

export const startWebServer = async (haven: Haven, options: { doh?: DohHandler } = {}) => {
  const app = await buildApi({
    services: haven.services,
    webRoot: path.join(packageRoot(), 'dist', 'web'),
    version: packageVersion(),
    trustProxy: haven.config.trustProxy,
    logRequests: haven.config.logRequests,
    secureCookies: haven.config.cookieSecure,
    healthCheck: haven.healthCheck,
    doh: options.doh,
    logger: {
      level: haven.config.logLevel,
      // Paths only: query strings can carry pupils' names typed into a search box.
      serializers: {
        req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, path: req.url.split('?')[0], ip: req.ip }),
      },
      redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'],
    },
  });
  await app.listen({ host: haven.config.host, port: haven.config.webPort });
  // Sessions past their absolute lifetime are removed hourly.
  const sweep = setInterval(() => void haven.services.auth.cleanExpiredSessions().catch(() => undefined), 3_600_000);
  sweep.unref();
  return {
    url: `http://${haven.config.host.includes(':') ? `[${haven.config.host}]` : haven.config.host}:${haven.config.webPort}/`,
    close: async () => {
      clearInterval(sweep);
      await app.close();
    },
  };
};
