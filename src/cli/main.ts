#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, loadClientConfig } from '../config.js';
import { VigilError } from '../errors.js';
import type { MonitorView } from '../monitors/service.js';
import { parsePage } from '../store/pagination.js';
import { withContext } from './context.js';
import { serveCommand } from './serve.js';
import { heartbeatCommand, execCommand } from './wrappers.js';

const program = new Command('vigil')
  .description('Vigil: a self-hosted monitor for cron jobs, workers and daemons')
  .showHelpAfterError()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

serveCommand(program);

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(() =>
    withContext(async ({ store }) => {
      // withContext already migrated; report the state.
      const pending = await store.pendingMigrations();
      console.log(`${store.description}: migrations up to date (${pending} pending)`);
    }),
  );

const user = program.command('user').description('manage users');
user
  .command('create')
  .description('create a user')
  .requiredOption('--email <email>', 'email address (login)')
  .option('--password <password>', 'password (8+ characters); default: read from VIGIL_PASSWORD')
  .addOption(new Option('--role <role>', 'role').choices(['admin', 'member']).default('member'))
  .action((options: { email: string; password?: string; role: 'admin' | 'member' }) =>
    withContext(async ({ accounts }) => {
      const password = options.password ?? loadClientConfig().password;
      if (!password) throw new VigilError('missing_field', 'password: pass --password or set VIGIL_PASSWORD', 'password');
      const created = await accounts.createUser({ email: options.email, password, role: options.role });
      console.log(`created ${created.role} ${created.email} (id ${created.id})`);
    }),
  );

const token = program.command('token').description('manage personal API tokens');
token
  .command('create')
  .description('create an API token for a user; the token is printed as the last line')
  .requiredOption('--email <email>', 'the user the token acts as')
  .option('--name <name>', 'a label for the token', 'cli')
  .action((options: { email: string; name: string }) =>
    withContext(async ({ accounts }) => {
      const found = await accounts.findUserByEmail(options.email);
      if (!found) throw new VigilError('not_found', `no user with email ${options.email}`);
      const created = await accounts.createToken(found.id, options.name);
      console.log(`token "${created.name}" for ${found.email} (shown once):`);
      console.log(created.token);
    }),
  );

const app = program.command('app').description('manage apps');
app
  .command('create')
  .description('create an app; its push API key is printed once, as the last line')
  .requiredOption('--name <name>', 'app name')
  .option('--environment <environment>', 'environment', 'production')
  .action((options: { name: string; environment: string }) =>
    withContext(async ({ apps }) => {
      const created = await apps.create({ name: options.name, environment: options.environment });
      console.log(`app ${created.id}: ${created.name} (${created.environment}); push API key (shown once):`);
      console.log(created.push_api_key);
    }),
  );
app
  .command('list')
  .description('list apps')
  .option('--json', 'print JSON')
  .action((options: { json?: boolean }) =>
    withContext(async ({ apps }) => {
      const list = await apps.list();
      if (options.json) console.log(JSON.stringify(list, null, 2));
      else for (const a of list) console.log(`${a.id}\t${a.name}\t${a.environment}`);
    }),
  );
app
  .command('rotate-key')
  .description('replace an app push API key; the old one stops working')
  .argument('<app-id>')
  .action((appId: string) =>
    withContext(async ({ apps }) => {
      console.log((await apps.rotateKey(numericId(appId, 'app'))).push_api_key);
    }),
  );

const monitor = program.command('monitor').description('manage monitors');
function monitorOptions(command: Command, creating: boolean): Command {
  if (creating) command.requiredOption('--identifier <identifier>', 'identifier the clients send (unique in the app)');
  else command.option('--identifier <identifier>', 'new identifier');
  return command
    .addOption(new Option('--type <type>', 'monitor type').choices(['cron', 'heartbeat']))
    .option('--schedule <crontab>', 'cron schedule (5 fields, optional leading seconds, @hourly…)')
    .option('--timezone <tz>', 'IANA timezone of the schedule (default UTC)')
    .option('--max-duration <seconds>', 'cron: longest run; heartbeat: longest gap between beats')
    .option('--description <text>', 'description')
    .option('--tag <tag...>', 'tags')
    .option('--failure-threshold <n>', 'failed occurrences before an incident opens')
    .option('--recovery-threshold <n>', 'successes before an incident resolves');
}
interface MonitorFlags {
  identifier?: string;
  type?: string;
  schedule?: string;
  timezone?: string;
  maxDuration?: string;
  description?: string;
  tag?: string[];
  failureThreshold?: string;
  recoveryThreshold?: string;
}
function monitorInput(flags: MonitorFlags): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const int = (value: string | undefined, field: string) => {
    if (value === undefined) return;
    if (!/^\d+$/.test(value)) throw new VigilError('invalid_field', `${field}: expected a whole number, got "${value}"`, field);
    input[field] = Number(value);
  };
  if (flags.identifier !== undefined) input.identifier = flags.identifier;
  if (flags.type !== undefined) input.type = flags.type;
  if (flags.schedule !== undefined) input.schedule = flags.schedule;
  if (flags.timezone !== undefined) input.timezone = flags.timezone;
  if (flags.description !== undefined) input.description = flags.description;
  if (flags.tag !== undefined) input.tags = flags.tag;
  int(flags.maxDuration, 'max_duration');
  int(flags.failureThreshold, 'failure_threshold');
  int(flags.recoveryThreshold, 'recovery_threshold');
  return input;
}
const printMonitor = (m: MonitorView) =>
  console.log(
    [m.id, m.identifier, m.type, m.schedule ?? '-', m.timezone ?? '-', `${m.max_duration}s`, m.status, m.last_event_at ?? '-'].join('\t'),
  );

monitorOptions(monitor.command('create').description('create a monitor').requiredOption('--app <app-id>', 'app id'), true).action(
  (flags: MonitorFlags & { app: string }) =>
    withContext(async ({ monitors }) => {
      const input = monitorInput(flags);
      input.type ??= 'cron';
      printMonitor(await monitors.create(numericId(flags.app, 'app'), input));
    }),
);
monitor
  .command('list')
  .description('list the monitors of an app')
  .requiredOption('--app <app-id>', 'app id')
  .option('--json', 'print JSON')
  .action((flags: { app: string; json?: boolean }) =>
    withContext(async ({ monitors }) => {
      const page = await monitors.list(numericId(flags.app, 'app'), {}, parsePage(500, undefined));
      if (flags.json) console.log(JSON.stringify(page.data, null, 2));
      else page.data.forEach(printMonitor);
    }),
  );
monitorOptions(monitor.command('update').description('change a monitor').argument('<monitor-id>'), false).action(
  (id: string, flags: MonitorFlags) =>
    withContext(async ({ monitors }) => printMonitor(await monitors.update(numericId(id, 'monitor'), monitorInput(flags)))),
);
monitor
  .command('delete')
  .description('delete a monitor and its history')
  .argument('<monitor-id>')
  .action((id: string) =>
    withContext(async ({ monitors }) => {
      await monitors.delete(numericId(id, 'monitor'));
      console.log(`deleted monitor ${id}`);
    }),
  );

execCommand(program);
heartbeatCommand(program);

function numericId(value: string, what: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new VigilError('invalid_field', `${what} id: expected a number, got "${value}"`);
  return Number(value);
}

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof VigilError || error instanceof ConfigError) {
    process.stderr.write(`vigil: ${error.message}${error instanceof VigilError ? ` (${error.code})` : ''}\n`);
  } else {
    process.stderr.write(`vigil: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
