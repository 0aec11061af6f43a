/**
 * The floors of the container figures: a trivial container of the agent image, created from the
 * same spec through the same Docker API (dockerode), whose node process makes HTTP requests to the
 * host over the same kind of Unix socket. What no design can avoid: create, start, first byte on the
 * socket (cold), and one HTTP round trip into the running container plus one SQLite WAL insert (warm).
 */
import type Docker from 'dockerode';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_SOCKET_PATH } from '../../container/agent/protocol.js';
import { agentIdentity } from '../../src/container/agent-identity.js';
import { agentContainerSpec } from '../../src/container/spec.js';
import { containerSchema } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';

/** Requests `n` times in a row on one kept-alive connection, then exits. */
const script = (n: number) =>
  `const http=require('http');const agent=new http.Agent({keepAlive:true});let i=0;` +
  `const go=()=>http.get({socketPath:${JSON.stringify(AGENT_SOCKET_PATH)},path:'/floor',agent},(r)=>{r.resume();r.on('end',()=>{if(++i<${n})go();else process.exit(0)})});go();`;

export interface FloorRun {
  /** createContainer called -> first byte on the host's socket. */
  coldMs: number;
  /** Between consecutive requests: host answers (after one SQLite insert), the container reads it and asks again. */
  roundTripsMs: number[];
}

let runs = 0;

export async function runFloorContainer(docker: Docker, image: string, requests: number): Promise<FloorRun> {
  const dir = mkdtempSync(join(tmpdir(), 'enc-floor-'));
  const socketDir = join(dir, 'sock');
  const memoryDir = join(dir, 'memory');
  mkdirSync(socketDir, { mode: 0o755 });
  mkdirSync(memoryDir);
  const db = openDatabase(join(dir, 'floor.db'));
  db.exec('CREATE TABLE IF NOT EXISTS floor (id INTEGER PRIMARY KEY, at REAL NOT NULL, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO floor (at, body) VALUES (?, ?)');
  const arrivals: number[] = [];
  let firstByte = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const server = createServer((req, res) => {
    arrivals.push(performance.now());
    insert.run(Date.now(), 'a message of a usual length, stored before the answer goes out');
    res.end('{"ok":true}');
    if (arrivals.length === requests) done();
  });
  server.on('connection', (s) => s.once('data', () => (firstByte ||= performance.now())));
  const socketPath = join(socketDir, 'api.sock');
  await new Promise<void>((r) => server.listen(socketPath, r));
  chmodSync(socketPath, 0o666);
  const { uid, gid } = agentIdentity();
  const spec = agentContainerSpec({
    group: `floor-${process.pid}-${runs++}`, image, homeId: 'benchfloor', uid, gid, memoryDir, globalMemoryDir: memoryDir, socketDir, skills: [], limits: containerSchema.parse({}),
  });
  const started = performance.now();
  const container = await docker.createContainer({ ...spec, Entrypoint: ['/usr/bin/node', '-e', script(requests)], Cmd: [] });
  try {
    await container.start();
    await finished;
    return { coldMs: firstByte - started, roundTripsMs: arrivals.slice(1).map((t, i) => t - arrivals[i]!) };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
    server.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
