import { request } from 'node:http';
import type { SendRequest, SendResponse } from './control-server.js';

export class NoRunningInstance extends Error {}

/** Asks a running Enclave to send a message; NoRunningInstance when nobody listens on the socket. */
export function sendViaControlSocket(socketPath: string, body: SendRequest): Promise<SendResponse> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      { socketPath, path: '/send', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as SendResponse);
          } catch {
            reject(new Error('the running Enclave sent an unreadable answer'));
          }
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new NoRunningInstance(err.message));
      else reject(err);
    });
    req.end(data);
  });
}
