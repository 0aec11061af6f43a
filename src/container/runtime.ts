import type { AgentContainerInput } from './spec.js';

/** One started agent container, whatever engine runs it. */
export interface AgentContainer {
  readonly id: string;
  /** Resolves with the exit code when the container stops, whoever stopped it. */
  readonly exited: Promise<number>;
  /** Stops it at once and removes it; never rejects. */
  remove(): Promise<void>;
}

/**
 * What the host needs from a container engine. Docker is the one implementation shipped; another
 * engine is one more implementation of this, and host tests that need no real container use an
 * in-process one.
 */
export interface ContainerRuntime {
  /** Makes the agent image ready (building it if needed); returns the image to start. */
  prepare(onProgress?: (line: string) => void): Promise<string>;
  /** Removes the containers an earlier run of this home left behind; returns how many. */
  removeLeftovers(homeId: string): Promise<number>;
  /** Creates and starts one agent container, replacing a leftover of the same name. */
  start(input: AgentContainerInput): Promise<AgentContainer>;
}
