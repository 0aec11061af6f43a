import { requestPairingCode } from '../../channels/whatsapp/pairing-code.js';
import { whatsappAuthDir } from '../../channels/platforms.js';
import { InstanceLock } from '../instance-lock.js';
import { createLogger } from '../logger.js';
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
  let lock: InstanceLock;
  try {
    lock = InstanceLock.acquire(config.paths.lockFile);
  } catch (err) {
    return fail(new Error(`stop the running Enclave first: it uses the same WhatsApp session (${(err as Error).message})`));
  }
  const log = createLogger({ destination: config.paths.logFile });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), WAIT_FOR_LINK_MS);
  try {
    const linked = new Promise<Error | undefined>((resolve) => {
      requestPairingCode({
        authDir: whatsappAuthDir(config.paths.dataDir),
        phone,
        socketUrl: config.enclave.channels.whatsapp.socketUrl,
        log,
        signal: abort.signal,
        onLinked: resolve,
      })
        .then((code) => {
          out(`Pairing code: ${code.slice(0, 4)}-${code.slice(4)}`);
          out('On the phone: WhatsApp > Settings > Linked devices > Link a device > Link with phone number instead, then enter the code.');
          out('Waiting up to 3 minutes for the phone...');
        })
        .catch((err: Error) => resolve(err));
    });
    const error = await linked;
    if (error) fail(error);
    out('Linked. Enable channels.whatsapp in enclave.yaml (if not yet) and start Enclave.');
  } finally {
    clearTimeout(timer);
    lock.release();
  }
}
