import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { isHelperName } from '../container/helper-dirs.js';
import type { AuditSink } from '../audit/types.js';
import type { Logger } from '../logger.js';
import { GroupSocketServer, type HostToolHandler, type ModelHandler } from './group-socket-server.js';

export interface SocketServersOptions {
  runDir: string;
  /** The container's uid: the only one allowed into a group's socket directory. */
  agentUid: number;
  onModel: ModelHandler;
  onHostTool: HostToolHandler;
  audit?: AuditSink;
  log: Logger;
}

/** Each group's socket server, started on first use and kept for the life of the host. */
export class SocketServers {
  private readonly servers = new Map<string, Promise<GroupSocketServer>>();

  constructor(private readonly opts: SocketServersOptions) {}

  get(group: string): Promise<GroupSocketServer> {
    let server = this.servers.get(group);
    if (!server) {
      const { runDir, agentUid, onModel, onHostTool, audit, log } = this.opts;
      const s = new GroupSocketServer(group, join(runDir, group, 'api.sock'), onModel, onHostTool, log, agentUid, audit);
      server = s.listen().then(() => s);
      this.servers.set(group, server);
    }
    return server;
  }

  /**
   * A spawn_helper helper's own socket (runDir/<name>/api.sock, mounted into its container only).
   * Its model calls go to the proxy as calls of `payer` (the spawner: its models, its budget),
   * each run inside `scope` (which marks them as the helper's); every host tool is refused.
   * close(name) removes it with its folder.
   */
  helper(name: string, payer: string, scope: <T>(run: () => T) => T): Promise<GroupSocketServer> {
    if (this.servers.has(name)) throw new Error(`socket ${name} exists already`);
    const { runDir, agentUid, onModel, audit, log } = this.opts;
    const refuseTools: HostToolHandler = async (_group, _turnId, tool) => {
      audit?.append({ kind: 'denial', group: payer, actor: `helper:${name}`, detail: { tool: tool.slice(0, 100), outcome: 'refused', reason: 'a helper has no host tools' } });
      return { ok: false, error: 'a helper has no host tools' };
    };
    const s = new GroupSocketServer(name, join(runDir, name, 'api.sock'), (_group, req, res) => scope(() => onModel(payer, req, res)), refuseTools, log, agentUid, audit);
    const server = s.listen().then(() => s);
    this.servers.set(name, server);
    return server;
  }

  /** Closes one group's socket (the group was removed or re-mapped); the next use opens a fresh one. */
  async close(group: string): Promise<void> {
    const server = this.servers.get(group);
    this.servers.delete(group);
    await (await server?.catch(() => undefined))?.close();
    if (isHelperName(group)) rmSync(join(this.opts.runDir, group), { recursive: true, force: true });
  }

  async closeAll(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    for (const s of all) await (await s.catch(() => undefined))?.close();
  }
}
