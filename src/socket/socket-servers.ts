import { join } from 'node:path';
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

  /** Closes one group's socket (the group was removed or re-mapped); the next use opens a fresh one. */
  async close(group: string): Promise<void> {
    const server = this.servers.get(group);
    this.servers.delete(group);
    await (await server?.catch(() => undefined))?.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    for (const s of all) await (await s.catch(() => undefined))?.close();
  }
}
