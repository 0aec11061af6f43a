import type { ServerResponse } from 'node:http';

/**
 * How a fake platform serves a file: 'normal' (with Content-Length); 'hang' (a few bytes, then
 * nothing, forever); 'unsized' (no Content-Length, streamed in pieces, so only counting finds the size).
 */
export type FileServing = 'normal' | 'hang' | 'unsized';

export function serveBytes(res: ServerResponse, data: Buffer, serving: FileServing = 'normal', contentType = 'application/octet-stream'): void {
  if (serving === 'hang') {
    res.writeHead(200, { 'content-type': contentType });
    res.write(data.subarray(0, 10));
    return;
  }
  if (serving === 'unsized') {
    res.writeHead(200, { 'content-type': contentType });
    for (let at = 0; at < data.length; at += 64 * 1024) res.write(data.subarray(at, at + 64 * 1024));
    return void res.end();
  }
  res.writeHead(200, { 'content-type': contentType, 'content-length': data.length }).end(data);
}

export interface MultipartPart {
  name: string;
  fileName?: string;
  contentType?: string;
  data: Buffer;
}

/**
 * The parts of a multipart/form-data body, read leniently as the platforms' servers do (grammy writes
 * `content-disposition:form-data;name="x";filename=a.png`, which strict parsers refuse).
 */
export function multipartParts(body: Buffer, contentType: string): MultipartPart[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1] ?? '';
  const parts: MultipartPart[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length + 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const name = /[;\s]name="?([^";\r\n]+)"?/i.exec(headers)?.[1] ?? '';
    const fileName = /filename="?([^";\r\n]+)"?/i.exec(headers)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1];
    parts.push({ name, fileName, contentType: type, data: Buffer.from(part.subarray(headerEnd + 4)) });
    at = next;
  }
  return parts;
}
