#!/usr/bin/env node
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { runSend } from './send-command.js';
import { runStart } from './start-command.js';
import { runBuildImage } from './build-image-command.js';

const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };

const program = new Command()
  .name('enclave')
  .version(version)
  .description('Enclave: a chat assistant whose agents run in locked-down per-group containers.\nState lives in ENCLAVE_HOME (default: the Enclave folder).');

program
  .command('start', { isDefault: true })
  .description('run the bot: channels, containers, and the local chat in this terminal')
  .option('--no-terminal', 'do not open the local chat prompt (run as a service)')
  .action((opts: { terminal: boolean }) => runStart(opts));

program
  .command('send')
  .description('send one message to a group through the local channel and print the reply')
  .requiredOption('-g, --group <name>', 'group to send to (it needs a local:<id> chat in its group.yaml)')
  .argument('<text...>', 'the message')
  .action((text: string[], opts: { group: string }) => runSend(opts.group, text.join(' ')));

program
  .command('build-image')
  .description('build the agent container image now (start does this when needed)')
  .option('--force', 'rebuild even if the current image exists')
  .action((opts: { force?: boolean }) => runBuildImage(opts.force === true));

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`enclave: ${err.message}\n`);
  process.exit(1);
});
