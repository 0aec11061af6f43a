import { request } from 'node:http';

/** One HTTP request over a Unix socket; an object body is sent as JSON, a string as it is. */
export function callSocket(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    // A refused oversized body is answered before it is all written; the rest of the write then fails.
    req.on('socket', (s) => s.on('error', () => undefined));
    req.end(body === undefined || typeof body === 'string' ? body : JSON.stringify(body));
  });
}
