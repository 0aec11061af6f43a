import { Enclave } from '../app.js';
import { sendAndCollect, type SendResponse } from '../control/control-server.js';
import { NoRunningInstance, sendViaControlSocket } from '../control/control-client.js';
import { noControlSocketMessage } from '../instance-lock.js';
import { createLogger } from '../logger.js';
import { enclaveHome, homePaths } from '../paths.js';
import { envSecretValues, SecretValues } from '../secret-values.js';
import { checkConfig, fail, progressPrinter } from './output.js';
import type { LocalFile } from '../../channels/local/local-channel.js';
import { readLocalFile } from '../../channels/local/local-file.js';
import { toWire } from '../control/wire-files.js';

/** `enclave send`: through the running instance if there is one, else through an embedded one. */
export async function runSend(group: string, text: string, attach: readonly string[] = []): Promise<void> {
  if (text.trim() === '' && attach.length === 0) fail(new Error('the message is empty; give a text or --attach a file'), 2);
  const files = await Promise.all(attach.map(readLocalFile)).catch((e: unknown) => fail(e));
  const home = enclaveHome();
  const paths = homePaths(home);
  let response: SendResponse;
  try {
    response = await sendViaControlSocket(paths.controlSocket, { group, text, files: files.map(toWire) });
  } catch (err) {
    if (!(err instanceof NoRunningInstance)) return fail(err);
    // Another instance holds the lock but has no control socket yet: say what `enclave status` says.
    const other = noControlSocketMessage(home, paths.lockFile);
    if (other.starting) return fail(new Error(other.message));
    response = await sendEmbedded(home, paths.logFile, group, text, files).catch((e: unknown) => fail(e));
  }
  if (response.error) fail(new Error(response.error));
  for (const reply of response.replies) process.stdout.write(`${reply}\n`);
  if (response.outcome === 'failed') fail(new Error('the turn failed (the reason is in the reply above)'));
  if (response.outcome === 'none') fail(new Error(`the message was not answered (${response.status})`));
}

async function sendEmbedded(home: string, logFile: string, group: string, text: string, files: readonly LocalFile[]): Promise<SendResponse> {
  const secrets = new SecretValues();
  const fromEnv = envSecretValues(checkConfig(home), process.env);
  secrets.add(() => fromEnv);
  const log = createLogger({ destination: logFile, secrets: () => secrets.values() });
  const app = await Enclave.start({ home, log, onProgress: progressPrinter(process.stderr), secretValues: secrets });
  try {
    return await sendAndCollect(app.config, app.local, group, text, files);
  } finally {
    await app.stop();
  }
}
