import Docker from 'dockerode';

/** Connects to the Docker Engine (DOCKER_HOST or the default socket) or says how to fix it. */
export async function connectDocker(): Promise<Docker> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `Docker Engine is not reachable (${(err as Error).message}). Enclave runs every agent in a container: ` +
        'install Docker Engine (Debian: apt-get install docker.io), start it (systemctl start docker, or run dockerd), ' +
        'and make sure this user may use /var/run/docker.sock (or set DOCKER_HOST).',
      { cause: err },
    );
  }
  return docker;
}
