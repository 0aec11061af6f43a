import type { Server } from 'node:http';
import { runTerminalChat } from '../../channels/local/terminal.js';
import { Enclave } from '../app.js';
import { channelSettledLine, channelStatesText, type ChannelStateReport } from '../channel-starts.js';
import { startControlServer } from '../control/control-server.js';
import { answerDashboardControl } from '../dashboard/dashboard-control.js';
import { localChatOf } from '../control/local-chat.js';
import { enclaveHome, homePaths, legacyHomeNotice } from '../paths.js';
import { createLogger } from '../logger.js';
import { readinessLines } from '../services/model-readiness.js';
import { envSecretValues, SecretValues } from '../secret-values.js';
import { diskFullAdvice, hasRoomToStart } from '../db/disk-space.js';
import { isDiskFull } from '../db/storage-health.js';
import { checkConfig, fail, progressPrinter } from './output.js';

export async function runStart(opts: { terminal: boolean }): Promise<void> {
  const home = enclaveHome();
  const paths = homePaths(home);
  if (!hasRoomToStart(home)) return fail(new Error(diskFullAdvice(home)));
  const secrets = new SecretValues();
  const fromEnv = envSecretValues(checkConfig(home), process.env);
  secrets.add(() => fromEnv);
  const log = createLogger({ destination: paths.logFile, secrets: () => secrets.values() });
  const progress = progressPrinter(process.stdout);
  progress(`Enclave starting (ENCLAVE_HOME=${home}, log: ${paths.logFile})`);
  const notice = legacyHomeNotice(home);
  if (notice) progress(notice);

  let started: Enclave;
  try {
    // Lines about channels that end their first attempt after Ready; before it, the Ready line says it.
    let ready = false;
    const onChannelSettled = (report: ChannelStateReport) => {
      const line = ready || report.state === 'failed' ? channelSettledLine(report) : undefined;
      if (line) progress(line);
    };
    started = await Enclave.start({ home, log, onProgress: progress, secretValues: secrets, onChannelSettled });
    ready = true;
  } catch (err) {
    return fail(isDiskFull(err) ? new Error(diskFullAdvice(home)) : err);
  }
  let control: Server | undefined;
  try {
    control = await startControlServer(paths.controlSocket, () => started.config, started.local, { reload: () => started.reloadGroups(), status: () => started.status(), dashboard: (r) => answerDashboardControl(started.dashboard, r) });
  } catch (err) {
    progress(`(the control socket for \`enclave send\` is unavailable: ${(err as Error).message})`);
  }
  const groups = [...started.config.groups.keys()].join(', ') || 'none';
  warnIfUnlimited(started.config.enclave.container.diskMb, progress);
  for (const line of readinessLines(started.modelProblems(), paths.configFile)) progress(line);
  progress(`Ready. Groups: ${groups}. Providers: ${started.config.providers.map((p) => p.name).join(', ') || 'none configured'}. Channels: ${channelStatesText(started.channelStates())}.`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    progress('Stopping: finishing running turns and removing containers...');
    control?.close();
    await started.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  if (opts.terminal && started.config.enclave.channels.local.enabled) {
    let chatId: string;
    try {
      chatId = localChatOf(started.config, 'main');
    } catch {
      const first = [...started.config.groups.values()].find((g) => g.chats.some((c) => c.startsWith('local:')));
      if (!first) {
        progress('No group has a local chat (local:<id> in group.yaml); running without the prompt.');
        return;
      }
      chatId = localChatOf(started.config, first.name);
    }
    // Ctrl-D at a terminal quits; the end of piped input leaves the bot running as a service.
    const onClose = () =>
      process.stdin.isTTY ? void stop() : progress('(input ended; Enclave keeps running: Ctrl-C or SIGTERM stops it)');
    runTerminalChat(started.local, { chatId, assistantName: started.config.enclave.assistantName, onClose });
  }
}

/** Without root the memory folders cannot get their own disks: say so before the first turn fails. */
function warnIfUnlimited(diskMb: number, progress: (line: string) => void): void {
  if (diskMb === 0) progress('Warning: container.diskMb is 0, so an agent can fill this disk (memory folders have no size limit).');
  else if (process.getuid?.() !== 0) {
    progress(
      `Note: each group's memory folder needs a size limit (container.diskMb: ${diskMb}). Not running as root, Enclave cannot create one: ` +
        'mount a size-limited filesystem at each groups/<name>/memory, run as root, or set container.diskMb: 0 to run without a limit.',
    );
  }
}
