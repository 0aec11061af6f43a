import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import type { Db } from '../../src/db/database.js';
import type { ModelProxy } from '../../src/proxy/model-proxy.js';
import type { FakeModel } from '../fakes/fake-model.js';

/**
 * The proxy behind a plain HTTP server on 127.0.0.1, standing in for the group sockets:
 * `<origin>/g/<group>/v1/...` reaches the proxy as that group. Closed with the model and db.
 */
export async function serveProxy(t: TestContext, proxy: ModelProxy, model: FakeModel, db: Db): Promise<{ origin: string; base: (group: string) => string }> {
  const server = createServer((req, res) => {
    const match = /^\/g\/([^/]+)(\/.*)$/.exec(req.url ?? '');
    if (!match) return void res.writeHead(404).end();
    req.url = match[2];
    proxy(match[1]!, req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await model.close();
    db.close();
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, base: (group) => `${origin}/g/${group}/v1` };
}
