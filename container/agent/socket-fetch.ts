import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';

export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

function isBufferedBody(body: unknown): boolean {
  return typeof body === 'string' || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof URLSearchParams;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function toHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  return headers;
}

function toResponse(res: IncomingMessage, method: string): Response {
  const status = res.statusCode ?? 502;
  const headers = toHeaders(res);
  if (NULL_BODY_STATUSES.has(status) || method === 'HEAD') {
    res.resume();
    return new Response(null, { status, statusText: res.statusMessage ?? '', headers });
  }
  // Readable.toWeb's return type comes from node:stream/web; it is the same class as the global one.
  const body = Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
}

/**
 * A `fetch` that sends every request to one Unix socket, whatever the URL's host.
 * The response body streams (server-sent events work); string/bytes bodies are sent with a
 * content-length, stream bodies chunked; an AbortSignal cancels the request and the body.
 */
export function createSocketFetch(socketPath: string): FetchFn {
  return async (input, init) => {
    const req = new Request(input, init);
    const { signal } = req;
    if (signal.aborted) throw abortError(signal);

    const url = new URL(req.url);
    const headers: Record<string, string> = {};
    req.headers.forEach((value, name) => {
      headers[name] = value;
    });
    headers['host'] = url.host;
    headers['accept-encoding'] ??= 'identity';

    let buffered: Buffer | undefined;
    if (req.body !== null && isBufferedBody(init?.body)) {
      buffered = Buffer.from(await req.arrayBuffer());
      headers['content-length'] = String(buffered.length);
    }

    return new Promise<Response>((resolve, reject) => {
      const outgoing = httpRequest({
        socketPath,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers,
        signal,
      });
      outgoing.once('response', (res) => resolve(toResponse(res, req.method)));
      outgoing.once('error', (err) => reject(signal.aborted ? abortError(signal) : err));

      if (buffered !== undefined) {
        outgoing.end(buffered);
      } else if (req.body !== null) {
        const bodyStream = Readable.fromWeb(req.body as unknown as NodeReadableStream<Uint8Array>);
        pipeline(bodyStream, outgoing).catch((err: unknown) => outgoing.destroy(err instanceof Error ? err : new Error(String(err))));
      } else {
        outgoing.end();
      }
    });
  };
}
