import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fetchCapped, plainHttpHosts } from '../../channels/download.js';

let server: Server;
let host: string;

before(async () => {
  server = createServer((_req, res) => res.end('file bytes'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const limits = () => ({ maxBytes: 1000, signal: new AbortController().signal });

test('a file host reached over plain http is refused (the bot token would travel in clear)', async () => {
  await assert.rejects(fetchCapped(`http://${host}/files/a.png`, { ...limits(), allowedHosts: [host], headers: { authorization: 'Bearer xoxb-secret' } }), /plain http/);
});

test('the configured API host may be reached over http (a local proxy or fake)', async () => {
  const data = await fetchCapped(`http://${host}/files/a.png`, { ...limits(), allowedHosts: [host], httpHosts: [host] });
  assert.equal(data.toString(), 'file bytes');
});

test('http stays refused for an allowed host that is not the configured one', async () => {
  await assert.rejects(fetchCapped(`http://files.slack.com/files-pri/T1/a.png`, { ...limits(), allowedHosts: ['files.slack.com', host], httpHosts: [host] }), /plain http/);
});

test('only a configured API URL that is itself http allows plain http: the real platforms\' https hosts never do', () => {
  assert.deepEqual(plainHttpHosts('https://slack.com/api/'), []);
  assert.deepEqual(plainHttpHosts('https://discord.com/api'), []);
  assert.deepEqual(plainHttpHosts(`http://${host}/api/`), [host]);
});
