import { requestPairingCode } from '../../channels/whatsapp/pairing-code.js';
import { whatsappAuthDir } from '../../channels/platforms.js';
import type { Config } from '../config/load.js';
import { InstanceLock } from '../instance-lock.js';
import { createLogger, type Logger } from '../logger.js';
import { enclaveHome } from '../paths.js';
import { checkConfig, fail, out } from './output.js';

const WAIT_FOR_LINK_MS = 3 * 60 * 1000;

/**
 * `enclave pair whatsapp --phone <number>`: links this host as a WhatsApp device with a pairing
 * code instead of a QR scan (for headless hosts). The running host must be stopped: both would
 * use the same session folder.
 */
export async function runPairWhatsApp(phone: string): Promise<void> {
  const config = checkConfig(enclaveHome());
  const log = createLogger({ destination: config.paths.logFile });
  try {
    await runPairWhatsAppWith(config, phone, log, out, AbortSignal.timeout(WAIT_FOR_LINK_MS));
  } catch (err) {
    fail(err);
  }
  out('Linked. Enable channels.whatsapp in enclave.yaml (if not yet) and start Enclave.');
}

/** Shows a pairing code and waits until the phone has linked; `enclave pair whatsapp` and `enclave setup` both use it. */
export async function runPairWhatsAppWith(config: Config, phone: string, log: Logger, say: (line: string) => void, signal: AbortSignal): Promise<void> {
  let lock: InstanceLock;
  try {
    lock = InstanceLock.acquire(config.paths.lockFile);
  } catch (err) {
    throw new Error(`stop the running Enclave first: it uses the same WhatsApp session (${(err as Error).message})`, { cause: err });
  }
  try {
    const error = await new Promise<Error | undefined>((resolve) => {
      requestPairingCode({ authDir: whatsappAuthDir(config.paths.dataDir), phone, socketUrl: config.enclave.channels.whatsapp.socketUrl, log, signal, onLinked: resolve })
        .then((code) => {
          say(`Pairing code: ${code.slice(0, 4)}-${code.slice(4)}`);
          say('On the phone: WhatsApp > Settings > Linked devices > Link a device > Link with phone number instead, then enter the code.');
          say('Waiting up to 3 minutes for the phone...');
        })
        .catch((err: Error) => resolve(err));
    });
    if (error) throw error;
  } finally {
    lock.release();
  }
}
