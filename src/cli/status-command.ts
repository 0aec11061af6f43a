import { callControl, NoRunningInstance } from '../control/control-client.js';
import { noControlSocketMessage } from '../instance-lock.js';
import { enclaveHome, homePaths } from '../paths.js';
import { fail, out } from './output.js';

/** `enclave status`: asks the running instance; says how to start one when none runs. */
export async function runStatus(): Promise<void> {
  const paths = homePaths(enclaveHome());
  try {
    const { status } = await callControl<{ status: string }>(paths.controlSocket, 'GET', '/status');
    out(status);
  } catch (err) {
    if (err instanceof NoRunningInstance) fail(new Error(noControlSocketMessage(paths.home, paths.lockFile).message));
    fail(err);
  }
}
