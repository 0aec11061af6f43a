import { request } from 'node:http';
import type { SendRequest, SendResponse } from './control-server.js';

export class NoRunningInstance extends Error {}

/** Asks a running Enclave to send a message; NoRunningInstance when nobody listens on the socket. */
export function sendViaControlSocket(socketPath: string, body: SendRequest): Promise<SendResponse> {
  return callControl<SendResponse>(socketPath, 'POST', '/send', body);
}

/** One request to the running host's control socket; NoRunningInstance when no host listens. */
export function callControl<T>(socketPath: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? '' : JSON.stringify(body);
    const req = request(
      { socketPath, path, method, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
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
