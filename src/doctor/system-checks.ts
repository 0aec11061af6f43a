import { existsSync, statSync } from 'node:fs';
import { AGENT_IMAGE_REPO } from '../container/image.js';
import { VaultKeyError } from '../vault/vault-key.js';
import { ok, problem, skipped, type DoctorCheck } from './check.js';

export const MIN_NODE_MAJOR = 20;
/** Below this, containers, the image and the log soon fill the disk. */
export const DOCTOR_MIN_FREE_BYTES = 512 * 1024 * 1024;

export const nodeCheck: DoctorCheck = {
  id: 'node',
  title: `Node.js ${MIN_NODE_MAJOR} or newer`,
  run: async (env) => {
    const major = Number(env.nodeVersion.replace(/^v/, '').split('.')[0]);
    return [major >= MIN_NODE_MAJOR ? ok('node', `Node.js ${env.nodeVersion}`) : problem('node', `Node.js ${env.nodeVersion} is too old`, `install Node.js ${MIN_NODE_MAJOR} or newer (https://nodejs.org, or your package manager), then run npm install again`)];
  },
};

export const dockerCheck: DoctorCheck = {
  id: 'docker',
  title: 'Docker Engine reachable',
  run: async (env) => {
    try {
      const version = await env.docker().version();
      return [ok('docker', `Docker Engine ${version.Version} reachable`)];
    } catch (err) {
      return [
        problem(
          'docker',
          `Docker Engine is not reachable (${(err as Error).message.split('\n')[0]})`,
          'install Docker Engine (Debian: apt-get install docker.io), start it (systemctl start docker), and let this user use it (usermod -aG docker $USER, then log in again) or set DOCKER_HOST',
        ),
      ];
    }
  },
};

export const imageCheck: DoctorCheck = {
  id: 'image',
  title: 'the agent image is built and current',
  run: async (env) => {
    const docker = env.docker();
    try {
      await docker.ping();
    } catch {
      return [skipped('image', 'not checked: Docker is not reachable', 'fix the Docker problem first')];
    }
    const tag = await env.agentImageTag();
    try {
      await docker.getImage(tag).inspect();
      return [ok('image', `agent image ${tag} is current`)];
    } catch {
      const older = (await docker.listImages({ filters: { reference: [AGENT_IMAGE_REPO] } }).catch(() => [])).flatMap((i) => i.RepoTags ?? []);
      const what = older.length > 0 ? `the agent image is out of date (have ${older.join(', ')}, need ${tag})` : `the agent image ${tag} is not built yet`;
      return [problem('image', what, 'run `npx enclave build-image` (offline, about a minute; `enclave start` also builds it)')];
    }
  },
};

export const diskCheck: DoctorCheck = {
  id: 'disk',
  title: 'free disk space for ENCLAVE_HOME',
  run: async (env) => {
    const free = env.freeBytes(env.paths.home);
    const mb = Math.floor(free / (1024 * 1024));
    if (free >= DOCTOR_MIN_FREE_BYTES) return [ok('disk', `${mb} MB free for ${env.paths.home}`)];
    return [problem('disk', `only ${mb} MB free on the disk of ${env.paths.home}`, `free at least ${DOCTOR_MIN_FREE_BYTES / (1024 * 1024)} MB: delete data/enclave.log, groups/.removed/, unused Docker images (docker image prune)`)];
  },
};

export const permissionsCheck: DoctorCheck = {
  id: 'permissions',
  title: 'ENCLAVE_HOME and the vault key are private',
  run: async (env) => {
    const results = [];
    const { home, dataDir } = env.paths;
    if (!existsSync(home)) return [problem('permissions', `ENCLAVE_HOME ${home} does not exist`, 'run `npx enclave setup` to create it')];
    for (const dir of [home, dataDir].filter((d) => existsSync(d))) {
      const mode = statSync(dir).mode & 0o777;
      if (mode & 0o002) results.push(problem('permissions', `${dir} is writable by every user (mode ${mode.toString(8)})`, `chmod o-w ${dir}`));
    }
    if (existsSync(dataDir) && statSync(dataDir).mode & 0o077) {
      const mode = statSync(dataDir).mode & 0o777;
      results.push(problem('permissions', `${dataDir} (database, vault, sessions) is open to other users (mode ${mode.toString(8)})`, `chmod 700 ${dataDir}`));
    }
    if (env.vaultError) {
      const fix = env.vaultError instanceof VaultKeyError ? 'see the sentence above' : 'check the database file and its permissions';
      results.push(problem('permissions', `the vault cannot be opened: ${env.vaultError.message}`, fix));
    }
    return results.length > 0 ? results : [ok('permissions', `${home} and its vault key are private`)];
  },
};
