import { ensureAgentImage } from '../container/image.js';
import { connectDocker } from '../docker.js';
import { fail, progressPrinter } from './output.js';

export async function runBuildImage(force: boolean): Promise<void> {
  const progress = progressPrinter(process.stdout);
  try {
    const docker = await connectDocker();
    const result = await ensureAgentImage(docker, { force, onProgress: progress });
    progress(result.built ? `Built ${result.tag} in ${result.seconds.toFixed(1)} s` : `${result.tag} is up to date`);
  } catch (err) {
    fail(err);
  }
}
