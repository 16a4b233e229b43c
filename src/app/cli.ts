/**
 * The `haven` command. Results go to stdout (scripts read them); progress, logs and errors go to
 * stderr, so `npm run --silent haven -- …` prints nothing else on stdout.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DomainError, isRole, type RoleGrant } from '../core/index.ts';
import { bootstrap, recordListsImport, seedDemoSchool, systemContext, type ImportReport } from '../services/index.ts';
import { migrateToLatest, openDatabase } from '../storage/index.ts';
import { openHaven, type Haven } from './compose.ts';
import { registerClassifyCommand } from './commands/classify-command.ts';
import { registerCaCommand } from './commands/ca-command.ts';
import { registerAnalyseCommand } from './commands/analyse-command.ts';
import { watchListFiles } from './classification.ts';
import { createDnsStack } from './dns.ts';
import { createProxyStack } from './proxy.ts';
import { resolveSchoolId } from './school-ref.ts';
import { registerListsCommand, startScheduledListUpdates } from './commands/lists-command.ts';
import { loadConfig } from './config.ts';
import { packageVersion } from './package-info.ts';
import { startWebServer } from './web-server.ts';
import { followFeeds, scheduleLoginRetention } from './login-feed.ts';
import { createBlockPages, startBlockPageServer } from './block-pages.ts';
import { isDnsWorker, superviseDnsWorkers } from './dns-workers.ts';

const ROLES_OF_PROCESS = ['web', 'dns', 'proxy', 'worker'] as const;
type ProcessRole = (typeof ROLES_OF_PROCESS)[number];

const err = (line: string) => process.stderr.write(`${line}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

const withHaven = async <T>(fn: (haven: Haven) => Promise<T>): Promise<T> => {
  const haven = await openHaven(loadConfig());
  try {
    return await fn(haven);
  } finally {
    await haven.close();
  }
};

const parseProcessRoles = (value: string, previous: ProcessRole[] = []): ProcessRole[] => {
  const roles = value
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  for (const r of roles) {
    if (!(ROLES_OF_PROCESS as readonly string[]).includes(r))
      throw new InvalidArgumentError(`role must be one of ${ROLES_OF_PROCESS.join(', ')}`);
  }
  return [...previous, ...(roles as ProcessRole[])];
};

/** Runs the chosen roles in this process until SIGINT/SIGTERM. */
const serve = async (roles: readonly ProcessRole[], options: { demo: boolean; announce: boolean }) => {
  const config = loadConfig();
  if (config.dnsWorkers > 1 && roles.length === 1 && roles[0] === 'dns' && !isDnsWorker()) {
    // Migrate once here, then let the workers share the port.
    const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      await migrateToLatest(database);
    } finally {
      await database.close();
    }
    return superviseDnsWorkers(config.dnsWorkers, err);
  }
  // A stop asked for while starting (a service manager, a test) waits for the start to finish,
  // then closes everything that was opened; without this the default action would kill the
  // process with events still queued.
  let asked: string | null = null;
  let stop: ((signal: string) => Promise<void>) | null = null;
  const onSignal = (signal: string) => {
    if (stop) void stop(signal);
    else asked ??= signal;
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const haven = await openHaven(config);
  const closers: (() => Promise<void>)[] = [];
  let adminLine: string[] = [];
  // The DNS filter's pipeline serves UDP/TCP (dns role) and DNS-over-HTTPS (web role).
  const dns = roles.includes('dns') || roles.includes('web') ? await createDnsStack(haven, { onError: err }) : null;
  if (dns) closers.push(() => dns.close());
  // With the DNS filter in this process, the proxy shares its event sink and refresh timers.
  const proxy = roles.includes('proxy') ? await createProxyStack(haven, { onError: err, ...(dns && { events: dns.events }) }) : null;
  if (proxy) closers.push(() => proxy.close());
  if (roles.includes('web')) {
    const boot = await bootstrap(haven.services.deps, {
      trustName: config.trustName,
      adminEmail: config.bootstrapAdminEmail,
      adminPassword: config.bootstrapAdminPassword,
    });
    if (options.demo) {
      const demo = await seedDemoSchool(haven.services.deps);
      if (demo.created) err('Seeded the demo school "Oakfield Primary School" (use --no-demo to skip on an empty database).');
    }
    if (boot.createdAdmin) {
      adminLine = boot.createdAdmin.generated
        ? [
            `  Log in as:  ${boot.createdAdmin.email}`,
            `  Password:   ${boot.createdAdmin.password ?? ''}`,
            '              (shown only this once: you will set up two-factor authentication and choose your own password at first login)',
          ]
        : [`  Log in as:  ${boot.createdAdmin.email} with the password in HAVEN_BOOTSTRAP_ADMIN_PASSWORD`];
    } else {
      adminLine = ['  Log in with your Haven account (an administrator can reset a forgotten password).'];
    }
    // The first school may have just been made: the DNS filter needs it to answer.
    await haven.services.identity.refresh();
    const web = await startWebServer(
      haven,
      dns ? { doh: (packet, client) => dns.handler.handle(packet, { ...client, transport: 'doh' }) } : {},
    );
    closers.push(web.close);
    out('');
    out(
      `Haven ${packageVersion()} is running (${haven.db.engine === 'sqlite' ? `SQLite at ${haven.db.describe}` : `PostgreSQL ${haven.db.describe}`}).`,
    );
    out(`  Web app:    ${web.url}`);
    for (const line of adminLine) out(line);
  }
  // An import by another process (the CLI, a worker elsewhere) is swapped in without a restart.
  const watcher = watchListFiles(haven.services.filter, config.dataDir, {
    onReload: (e) =>
      err(e ? `could not load the new category lists, the old ones keep serving: ${e.message}` : 'loaded new category lists'),
  });
  closers.push(() => Promise.resolve(watcher.stop()));
  if (roles.some((r) => r !== 'worker')) {
    // Logins sent to another process (a web server behind a load balancer) reach this one's filters.
    const feed = followFeeds(haven.services, err);
    closers.push(() => Promise.resolve(feed.stop()));
  }
  if (roles.includes('worker')) {
    const retention = scheduleLoginRetention(haven.services.logins, config.loginRetentionDays, err);
    closers.push(() => Promise.resolve(retention.stop()));
    // The worker keeps category lists fresh; monitoring jobs join it with their issue.
    const updates = startScheduledListUpdates({
      dataDir: config.dataDir,
      onResult: (r) => {
        if (!r.ok) return;
        void watcher.check();
        recordListsImport(haven.services.deps.store, systemContext('scheduled list update'), new Date().toISOString(), {
          before: r.previous,
          after: r.manifest,
          reason: `Scheduled update from ${r.manifest.source}`,
        }).catch((e: unknown) => err(`could not record the list update in the audit log: ${e instanceof Error ? e.message : String(e)}`));
      },
    });
    if (updates) {
      closers.push(() => Promise.resolve(updates.stop()));
      out(`  worker      keeps category lists up to date from HAVEN_LISTS_URL (next update ${updates.nextRunAt() ?? 'not scheduled'}).`);
    } else {
      out('  worker      running; no scheduled list updates (set HAVEN_LISTS_URL to import category lists on a schedule).');
    }
  }
  if (roles.includes('dns') && dns) {
    const server = await dns.listen();
    out(`  DNS filter: ${config.dnsHost}:${server.port} (UDP and TCP), forwarding to ${config.dnsUpstream}`);
    if (roles.includes('web')) out('  DoH:        /dns-query on the web app (and /dns-query/<device-token>)');
    if (config.blockPagePort !== null) {
      try {
        const pages = await startBlockPageServer(createBlockPages(haven), { host: config.dnsHost, port: config.blockPagePort });
        closers.push(pages.close);
        out(
          `  Block page: http://${config.dnsHost.includes(':') ? `[${config.dnsHost}]` : config.dnsHost}:${pages.port}/ (where blocked names point)`,
        );
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        err(`The block-page server is not running: port ${config.blockPagePort} is in use (set HAVEN_BLOCK_PAGE_PORT, or "off").`);
      }
    }
  }
  if (proxy) {
    try {
      const server = await proxy.listen();
      const at = `${config.proxyHost.includes(':') ? `[${config.proxyHost}]` : config.proxyHost}:${server.port}`;
      out(`  Proxy:      ${at} (HTTP, HTTPS tunnels, WebSockets); PAC file at http://${at}/proxy.pac`);
      out(
        `              HTTPS inspection ${config.proxyIntercept ? 'on (exempt hosts tunnelled untouched)' : 'off (HAVEN_PROXY_INTERCEPT)'}; sign-in ${config.proxyAuth === 'off' ? 'off (HAVEN_PROXY_AUTH)' : config.proxyAuth}`,
      );
    } catch (e) {
      // `haven start` runs everything: a busy proxy port (another proxy on 3128) must not stop the rest.
      if (roles.length === 1 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      err(`The proxy is not running: port ${config.proxyPort} on ${config.proxyHost} is in use (set HAVEN_PROXY_PORT).`);
    }
  }
  if (options.announce) out('Press Ctrl+C to stop.');
  stop = async (signal: string) => {
    err(`Received ${signal}, stopping…`);
    for (const close of [...closers].reverse()) await close();
    await haven.close();
    process.exit(0);
  };
  if (asked) await stop(asked);
};

const parseGrant = (value: string, previous: string[] = []) => [...previous, value];

const printReport = (report: ImportReport) => {
  out(`rows: ${report.totalRows}  valid: ${report.validRows}  invalid: ${report.invalidRows}`);
  out(`created: ${report.created}  updated: ${report.updated}  unchanged: ${report.unchanged}  applied: ${report.applied ? 'yes' : 'no'}`);
  if (report.ignoredColumns.length > 0) out(`ignored columns: ${report.ignoredColumns.join(', ')}`);
  for (const e of report.errors) out(`line ${e.line}${e.field ? ` (${e.field})` : ''}: ${e.message}`);
};

export const buildCli = (): Command => {
  const program = new Command('haven')
    .description('Haven: online safety for UK schools — filtering, monitoring and safeguarding records')
    .version(packageVersion())
    .showHelpAfterError();

  program
    .command('start')
    .description(
      'run every role in one process (web app and API, DNS filter, proxy, worker) on the embedded database or HAVEN_DATABASE_URL',
    )
    .option('--no-demo', 'do not seed the demo school when the database is empty')
    .action(async (opts: { demo: boolean }) => serve(ROLES_OF_PROCESS, { demo: opts.demo, announce: true }));

  program
    .command('serve')
    .description('run chosen roles in this process (several processes can share a PostgreSQL database)')
    .requiredOption('--role <roles>', 'web, dns, proxy or worker (comma-separated or repeated)', parseProcessRoles)
    .option('--no-demo', 'do not seed the demo school when the database is empty')
    .action(async (opts: { role: ProcessRole[]; demo: boolean }) => serve([...new Set(opts.role)], { demo: opts.demo, announce: true }));

  const db = program.command('db').description('database maintenance');
  db.command('migrate')
    .description('bring the database schema up to date (start does this too)')
    .action(async () => {
      const config = loadConfig();
      const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const { applied } = await migrateToLatest(database);
        out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await database.close();
      }
    });

  const school = program.command('school').description('schools of the trust');
  school
    .command('add')
    .description('add a school to the trust')
    .requiredOption('--name <name>', 'the school’s name')
    .option('--urn <urn>', 'its 6-digit DfE URN')
    .action(async (opts: { name: string; urn?: string }) => {
      await withHaven(async (haven) => {
        const config = haven.config;
        await haven.services.tenancy.ensureTrust(config.trustName);
        const created = await haven.services.tenancy.createSchool(systemContext('cli'), { name: opts.name, urn: opts.urn });
        out(`created ${created.name} (${created.id})`);
      });
    });
  school
    .command('list')
    .description('list the schools: id, URN and name, tab-separated')
    .action(async () => {
      await withHaven(async (haven) => {
        for (const s of await haven.services.deps.store.tenancy.listSchools('all')) out(`${s.id}\t${s.urn ?? '-'}\t${s.name}`);
      });
    });

  const user = program.command('user').description('user accounts');
  user
    .command('add')
    .description('add a user; prints a one-time password unless --password-stdin is given')
    .requiredOption('--email <email>', 'login email')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--role <role[@school]>', 'a role, trust-wide or at one school (id, URN or name); repeatable', parseGrant)
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .action(async (opts: { email: string; name: string; role: string[]; passwordStdin?: boolean }) => {
      await withHaven(async (haven) => {
        const grants: RoleGrant[] = [];
        for (const spec of opts.role) {
          const [role = '', school] = spec.split('@');
          if (!isRole(role)) throw new DomainError('VALIDATION_FAILED', `Unknown role "${role}"`, 400);
          grants.push({ role, schoolId: school ? await resolveSchoolId(haven, school) : null });
        }
        const password = opts.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : undefined;
        const result = await haven.services.users.create(systemContext('cli'), {
          email: opts.email,
          displayName: opts.name,
          grants,
          password,
        });
        out(`created ${result.user.email} (${result.user.id})`);
        if (result.temporaryPassword) out(`one-time password: ${result.temporaryPassword}`);
      });
    });

  const importCmd = program.command('import').description('import data');
  importCmd
    .command('people')
    .description(
      'import pupils, staff, parents and governors from a MIS CSV export; nothing is imported if any row is bad, unless --skip-invalid',
    )
    .argument('<file>', 'CSV file')
    .requiredOption('--school <school>', 'school id, URN or exact name')
    .option('--dry-run', 'check the file and report, changing nothing')
    .option('--skip-invalid', 'import the valid rows and report the rest')
    .action(async (file: string, opts: { school: string; dryRun?: boolean; skipInvalid?: boolean }) => {
      const csv = readFileSync(file);
      await withHaven(async (haven) => {
        const schoolId = await resolveSchoolId(haven, opts.school);
        let lastShown = 0;
        try {
          const report = await haven.services.importPeople(systemContext('cli'), {
            schoolId,
            csv,
            dryRun: opts.dryRun ?? false,
            skipInvalid: opts.skipInvalid ?? false,
            onProgress: (done, total) => {
              const now = Date.now();
              if (now - lastShown > 250 || done === total) {
                lastShown = now;
                if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} rows`);
                else err(`${done}/${total} rows`);
              }
            },
          });
          if (process.stderr.isTTY) err('');
          printReport(report);
          if (report.invalidRows > 0) process.exitCode = 1;
        } catch (e) {
          if (e instanceof DomainError && e.code === 'IMPORT_HAS_ERRORS') {
            if (process.stderr.isTTY) err('');
            printReport(e.details as ImportReport);
            err(e.message);
            process.exitCode = 1;
            return;
          }
          throw e;
        }
      });
    });

  const audit = program.command('audit').description('the hash-chained audit log');
  audit
    .command('verify')
    .description('check every entry of the audit log; exits 1 naming the first altered or missing entry')
    .action(async () => {
      await withHaven(async (haven) => {
        const report = await haven.services.audit.verify();
        if (report.ok) {
          out(`audit log OK: ${report.checked} entries, chain intact`);
        } else {
          out(`audit log BROKEN at entry ${report.problem?.seq ?? '?'}: ${report.problem?.message ?? ''}`);
          out(`${report.checked} entries before it are intact`);
          process.exitCode = 1;
        }
      });
    });

  registerListsCommand(program);
  registerClassifyCommand(program);
  registerCaCommand(program);
  registerAnalyseCommand(program);

  program.addOption(new Option('--quiet', 'accepted for scripts; Haven already prints only results on stdout').hideHelp());
  return program;
};

export const main = async (argv: string[]) => {
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    err(`haven: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = e instanceof DomainError && e.status < 500 ? 2 : 1;
  }
};
