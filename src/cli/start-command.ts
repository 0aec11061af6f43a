import type { Server } from 'node:http';
import { runTerminalChat } from '../../channels/local/terminal.js';
import { Enclave } from '../app.js';
import { startControlServer } from '../control/control-server.js';
import { localChatOf } from '../control/local-chat.js';
import { enclaveHome, homePaths } from '../paths.js';
import { createLogger } from '../logger.js';
import { checkConfig, fail, progressPrinter, providerSecrets } from './output.js';

export async function runStart(opts: { terminal: boolean }): Promise<void> {
  const home = enclaveHome();
  const paths = homePaths(home);
  const secrets = providerSecrets(checkConfig(home));
  const log = createLogger({ destination: paths.logFile, secrets: () => secrets });
  const progress = progressPrinter(process.stdout);
  progress(`Enclave starting (ENCLAVE_HOME=${home}, log: ${paths.logFile})`);

  let app: Enclave;
  try {
    app = await Enclave.start({ home, log, onProgress: progress });
  } catch (err) {
    return fail(err);
  }
  let control: Server | undefined;
  try {
    control = await startControlServer(paths.controlSocket, app.config, app.local);
  } catch (err) {
    progress(`(the control socket for \`enclave send\` is unavailable: ${(err as Error).message})`);
  }
  const groups = [...app.config.groups.keys()].join(', ') || 'none';
  progress(`Ready. Groups: ${groups}. Providers: ${app.config.providers.map((p) => p.name).join(', ') || 'none configured'}.`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    progress('Stopping: finishing running turns and removing containers...');
    control?.close();
    await app.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  if (opts.terminal && app.config.enclave.channels.local.enabled) {
    let chatId: string;
    try {
      chatId = localChatOf(app.config, 'main');
    } catch {
      const first = [...app.config.groups.values()].find((g) => g.chats.some((c) => c.startsWith('local:')));
      if (!first) {
        progress('No group has a local chat (local:<id> in group.yaml); running without the prompt.');
        return;
      }
      chatId = localChatOf(app.config, first.name);
    }
    // Ctrl-D at a terminal quits; the end of piped input leaves the bot running as a service.
    const onClose = () =>
      process.stdin.isTTY ? void stop() : progress('(input ended; Enclave keeps running: Ctrl-C or SIGTERM stops it)');
    runTerminalChat(app.local, { chatId, assistantName: app.config.enclave.assistantName, onClose });
  }
}
