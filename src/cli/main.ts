#!/usr/bin/env node
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { runSend } from './send-command.js';
import { runStart } from './start-command.js';
import { runBuildImage } from './build-image-command.js';
import { runAudit } from './audit-command.js';
import { runChats } from './chats-command.js';
import { runDashboardLogin, runDashboardRevoke, runDashboardSessions } from './dashboard-command.js';
import { runGroupsAdd, runGroupsList, runGroupsRemove, runGroupsShow } from './groups-command.js';
import { runPairApprove, runPairList, runPairRevoke } from './pair-command.js';
import { runSecrets } from './secrets-command.js';
import { runStatus } from './status-command.js';
import { runPairWhatsApp } from './pair-whatsapp-command.js';
import { runTasks } from './tasks-command.js';
import { runTeam } from './team-command.js';
import { runTeamApply } from './team-apply-command.js';
import { runUsage } from './usage-command.js';
import { registerSetupCommand } from './setup-command.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerLogsCommand } from './logs-command.js';

const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };

const program = new Command()
  .name('enclave')
  .version(version)
  .description('Enclave: a chat assistant whose agents run in locked-down per-group containers.\nState lives in ENCLAVE_HOME (default: ~/.enclave).');

program
  .command('start')
  .description('run the bot: channels, containers, and the local chat in this terminal')
  .option('--no-terminal', 'do not open the local chat prompt (run as a service)')
  .action((opts: { terminal: boolean }) => runStart(opts));

program
  .command('send')
  .description('send one message to a group through the local channel and print the reply')
  .requiredOption('-g, --group <name>', 'group to send to (it needs a local:<id> chat in its group.yaml)')
  .option('-a, --attach <file>', 'attach a file (photo, voice note, document); repeat for several', (file: string, files: string[]) => [...files, file], [] as string[])
  .argument('[text...]', 'the message (may be empty with --attach)')
  .action((text: string[], opts: { group: string; attach: string[] }) => runSend(opts.group, text.join(' '), opts.attach));

program
  .command('build-image')
  .description('build the agent container image now (start does this when needed)')
  .option('--force', 'rebuild even if the current image exists')
  .action((opts: { force?: boolean }) => runBuildImage(opts.force === true));

program
  .command('status')
  .description('the running instance: channels (connected, last event, reconnects), groups, containers, budgets')
  .action(() => runStatus());

const secrets = program.command('secrets').description('the encrypted vault: provider keys and channel tokens');
secrets
  .command('set')
  .description('store a secret; the value is read from stdin (never from the command line)')
  .argument('<name>', 'e.g. OPENAI_API_KEY or TELEGRAM_BOT_TOKEN')
  .action((name: string) => runSecrets('set', name));
secrets.command('list').description('names and when they were set (never values)').action(() => runSecrets('list'));
secrets.command('rm').description('delete a secret').argument('<name>').action((name: string) => runSecrets('rm', name));

const audit = program.command('audit').description('the tamper-evident audit log');
audit.command('verify').description('check the hash chain; exits 1 if a row was edited or deleted').action(() => runAudit('verify'));
audit
  .command('tail')
  .description('show the newest rows')
  .option('-n <count>', 'how many rows', (v) => Number(v), 20)
  .option('--json', 'one JSON object per line')
  .action((opts: { n: number; json?: boolean }) => runAudit('tail', { n: opts.n, json: opts.json === true }));

const groups = program.command('groups').description('groups: which chats reach which agent');
groups
  .command('add')
  .description('create groups/<name>/ (group.yaml and memory) for a chat')
  .argument('<name>', 'lowercase letters, digits, - and _')
  .requiredOption('--chat <id>', 'the chat as <channel>:<chat id>, e.g. telegram:-1001234 (see: enclave chats)')
  .action((name: string, opts: { chat: string }) => runGroupsAdd(name, opts.chat));
groups.command('list').description('every group with its model and chats').option('--json', 'JSON output').action((opts: { json?: boolean }) => runGroupsList(opts.json === true));
groups.command('show').description('one group\'s settings').argument('<name>').action((name: string) => runGroupsShow(name));
groups.command('remove').description('unregister a group; its files move to groups/.removed/').argument('<name>').action((name: string) => runGroupsRemove(name));

program
  .command('chats')
  .description('chats the bot has seen that no group maps, with the line to add')
  .option('--json', 'JSON output')
  .action((opts: { json?: boolean }) => runChats(opts.json === true));

const pair = program.command('pair').description('who may DM the bot: pairing codes and approvals');
pair.command('approve').description('admit the person who got this pairing code').argument('<code>').action((code: string) => runPairApprove(code));
pair.command('list').description('people approved or waiting').option('--json', 'JSON output').action((opts: { json?: boolean }) => runPairList(opts.json === true));
pair.command('revoke').description('take an approval back').argument('<who>', '<channel>:<sender id>').action((who: string) => runPairRevoke(who));

pair
  .command('whatsapp')
  .description('link WhatsApp with a pairing code instead of the QR code (for headless hosts; stop Enclave first)')
  .requiredOption('--phone <number>', 'the phone number with country code, e.g. 4915123456789')
  .action((opts: { phone: string }) => runPairWhatsApp(opts.phone));

const dashboard = program.command('dashboard').description('the web dashboard of the running host (dashboard.enabled in enclave.yaml)').action(() => runDashboardLogin());
dashboard.command('login', { isDefault: true }).description('print a one-time login link (10 minutes, single use)').action(() => runDashboardLogin());
dashboard.command('sessions').description('list logged-in dashboard sessions').action(() => runDashboardSessions());
dashboard.command('revoke').description('end a dashboard session at once').argument('<id>', 'a session id (or its first characters), or all').action((id: string) => runDashboardRevoke(id));

program
  .command('usage')
  .description('spend per group today and this month against the limits, as a bar chart')
  .option('--json', 'machine-readable output')
  .action((opts: { json?: boolean }) => runUsage({ json: opts.json === true }));

const tasks = program.command('tasks').description('scheduled tasks: a prompt run in a group at set times');
tasks
  .command('add')
  .description('schedule a prompt (exactly one of --cron, --every, --at)')
  .requiredOption('-g, --group <name>', 'the group whose agent runs it')
  .option('--cron <expr>', 'cron expression in the group\'s time zone, e.g. "0 9 * * 1-5"')
  .option('--every <interval>', 'interval of at least 1 minute: 30m, 2h, 1d, 1h30m')
  .option('--at <time>', 'once: YYYY-MM-DDTHH:mm in the group\'s time zone, or ISO 8601 with an offset')
  .option('--chat <id>', 'where the answer goes, <channel>:<chat id> (default: the group\'s first chat)')
  .argument('<prompt...>', 'what the agent is told at each run')
  .action((words: string[], opts: { group: string; cron?: string; every?: string; at?: string; chat?: string }) =>
    runTasks('add', { ...opts, prompt: words.join(' ') }),
  );
tasks
  .command('list')
  .description('scheduled tasks with their next run')
  .option('-g, --group <name>', 'only this group')
  .option('--all', 'also cancelled and finished tasks')
  .option('--json', 'JSON output')
  .action((opts: { group?: string; all?: boolean; json?: boolean }) => runTasks('list', opts));
for (const [action, what] of [['rm', 'cancel a task'], ['pause', 'pause a task'], ['resume', 'resume a paused task']] as const) {
  tasks.command(action).description(what).argument('<id>').action((id: string) => runTasks(action, { id }));
}

const team = program.command('team').description('agent teams: members, tasks between agents, shared boards');
team.command('list').description('every team with its members and limits').action(() => runTeam({ verb: 'list' }));
team.command('show').description('one team: each member\'s rights').argument('<team>').action((name: string) => runTeam({ verb: 'show', team: name }));
team
  .command('tasks')
  .description('team tasks in flight: who asked whom, state, chain spend')
  .option('-t, --team <name>', 'only this team')
  .option('--all', 'also finished tasks')
  .action((opts: { team?: string; all?: boolean }) => runTeam({ verb: 'tasks', team: opts.team, all: opts.all === true }));
team.command('board').description('a team\'s shared board').argument('<team>').action((name: string) => runTeam({ verb: 'board', team: name }));
team
  .command('apply')
  .description('create a whole team (groups, roles in MEMORY.md, rights, budgets) from one file; shows the plan and asks first')
  .argument('<file>', 'a team file, e.g. groups/templates/teams/household.yaml')
  .option('-y, --yes', 'apply without asking')
  .action((file: string, opts: { yes?: boolean }) => runTeamApply(file, { yes: opts.yes === true }));

registerSetupCommand(program);
registerDoctorCommand(program);
registerLogsCommand(program);

program.showSuggestionAfterError(true);

program.parseAsync(withDefaultVerb(process.argv)).catch((err: Error) => {
  process.stderr.write(`enclave: ${err.message}\n`);
  process.exit(1);
});

/**
 * `enclave` alone (or with only start's options) starts the bot; any other first word must be a
 * verb, so a typo gets "unknown command ... did you mean" instead of being taken as start's argument.
 */
function withDefaultVerb(argv: string[]): string[] {
  const [first] = argv.slice(2);
  const startOnly = first === undefined || (first.startsWith('-') && !['-h', '--help', '-V', '--version'].includes(first));
  return startOnly ? [...argv.slice(0, 2), 'start', ...argv.slice(2)] : argv;
}
