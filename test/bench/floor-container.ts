/**
 * The floors of the container figures: a trivial container of the agent image, created from the
 * same spec through the same Docker API (dockerode), whose node process makes HTTP requests to the
 * host over the same kind of Unix socket. What no design can avoid: create, start, first byte on the
 * socket (cold), and one HTTP round trip into the running container plus one SQLite WAL insert (warm).
 */
import type Docker from 'dockerode';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_SOCKET_PATH } from '../../container/agent/protocol.js';
import { agentIdentity } from '../../src/container/agent-identity.js';
import { agentContainerSpec } from '../../src/container/spec.js';
import { containerSchema } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';

/** Asks again as soon as an answer is read, on one kept-alive connection, until stopped. */
const SCRIPT =
  `const http=require('http');const agent=new http.Agent({keepAlive:true});` +
  `const go=()=>http.get({socketPath:${JSON.stringify(AGENT_SOCKET_PATH)},path:'/floor',agent},(r)=>{r.resume();r.on('end',go)});go();`;

export interface FloorContainer {
  /** createContainer called -> first byte on the host's socket. */
  coldMs: number;
  /** One SQLite WAL insert, then the held request answered; resolves when the container's next request arrives. */
  roundTrip(): Promise<number>;
  stop(): Promise<void>;
}

let runs = 0;

export async function startFloorContainer(docker: Docker, image: string): Promise<FloorContainer> {
  const dir = mkdtempSync(join(tmpdir(), 'enc-floor-'));
  const socketDir = join(dir, 'sock');
  const memoryDir = join(dir, 'memory');
  mkdirSync(socketDir, { mode: 0o755 });
  mkdirSync(memoryDir);
  const db = openDatabase(join(dir, 'floor.db'));
  db.exec('CREATE TABLE IF NOT EXISTS floor (id INTEGER PRIMARY KEY, at REAL NOT NULL, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO floor (at, body) VALUES (?, ?)');
  let held: ServerResponse | undefined;
  let arrived: (() => void) | undefined;
  let firstByte = 0;
  const server = createServer((_req, res) => {
    held = res;
    arrived?.();
  });
  server.on('connection', (s) => s.once('data', () => (firstByte ||= performance.now())));
  const nextRequest = () => new Promise<void>((r) => (arrived = r));
  const socketPath = join(socketDir, 'api.sock');
  await new Promise<void>((r) => server.listen(socketPath, r));
  chmodSync(socketPath, 0o666);
  const { uid, gid } = agentIdentity();
  const spec = agentContainerSpec({
    group: `floor-${process.pid}-${runs++}`, image, homeId: 'benchfloor', uid, gid, memoryDir, globalMemoryDir: memoryDir, socketDir, inboxDir: memoryDir, skills: [], limits: containerSchema.parse({}),
  });
  const first = nextRequest();
  const started = performance.now();
  const container = await docker.createContainer({ ...spec, Entrypoint: ['/usr/bin/node', '-e', SCRIPT], Cmd: [] });
  const stop = async () => {
    await container.remove({ force: true }).catch(() => undefined);
    server.closeAllConnections();
    server.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await container.start();
    await first;
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    coldMs: firstByte - started,
    async roundTrip() {
      const next = nextRequest();
      const t0 = performance.now();
      insert.run(Date.now(), 'a message of a usual length, stored before the answer goes out');
      held!.end('{"ok":true}');
      await next;
      return performance.now() - t0;
    },
    stop,
  };
}
