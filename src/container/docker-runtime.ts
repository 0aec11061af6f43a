import type Docker from 'dockerode';
import { connectDocker } from '../docker.js';
import { sleep } from '../time/sleep.js';
import { ensureAgentImage } from './image.js';
import type { AgentContainer, ContainerRuntime } from './runtime.js';
import { agentContainerSpec, LABEL_HOME, type AgentContainerInput } from './spec.js';

/** How long a start waits for a leftover of the same name to go before trying anyway. */
const LEFTOVER_REMOVAL_WAIT_MS = 15_000;

/** Agent containers on a Docker Engine, created from agentContainerSpec and nothing else. */
export class DockerRuntime implements ContainerRuntime {
  private constructor(readonly docker: Docker) {}

  /** Connects to the engine (DOCKER_HOST or the default socket), or says how to fix it. */
  static async connect(docker?: Docker): Promise<DockerRuntime> {
    return new DockerRuntime(docker ?? (await connectDocker()));
  }

  async prepare(onProgress?: (line: string) => void): Promise<string> {
    const image = await ensureAgentImage(this.docker, { onProgress });
    if (image.built) onProgress?.(`Agent image ${image.tag} built in ${image.seconds.toFixed(1)} s`);
    return image.tag;
  }

  async removeLeftovers(homeId: string): Promise<number> {
    const leftovers = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_HOME}=${homeId}`] } });
    await Promise.all(leftovers.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    return leftovers.length;
  }

  async start(input: AgentContainerInput): Promise<AgentContainer> {
    const spec = agentContainerSpec(input);
    // A leftover of the same name may still be going away: its name is free only once it is gone.
    const leftover = this.docker.getContainer(spec.name!);
    await leftover.remove({ force: true }).catch(() => undefined);
    await Promise.race([leftover.wait({ condition: 'removed' }).catch(() => undefined), sleep(LEFTOVER_REMOVAL_WAIT_MS)]);
    const container = await this.docker.createContainer(spec);
    const exited = container.wait({ condition: 'next-exit' }).then((r: { StatusCode: number }) => r.StatusCode, () => -1);
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
    return {
      id: container.id,
      exited,
      remove: () => container.remove({ force: true }).then(() => undefined, () => undefined),
    };
  }
}
