import type { RecordedRequest } from '../fakes/fake-model.js';

/** One HTTP request an agent makes by hand from inside its container, over a Unix socket. */
export interface SocketProbe {
  /** Tags the output line; also sent as ?probe=<name> so the host's audit row can be matched to it. */
  name: string;
  socket: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: Record<string, unknown>;
  /** Instead of body: a chat request padded to about this many bytes. */
  padBytes?: number;
  /** Send the body chunked, with no content-length, so the host only learns its size while reading. */
  chunked?: boolean;
}

/** What the agent saw: an HTTP answer, or the error code of a connection that never got one. */
export interface ProbeResult {
  status?: number;
  headers?: Record<string, unknown>;
  body?: string;
  error?: string;
}

const MARK = 'PROBE_RESULT';

/** The script runs under `node -e` inside the container; it prints one marked line. */
const PROBE_SCRIPT = `
const http = require("http");
let body = o.body === undefined ? undefined : JSON.stringify(o.body);
if (o.padBytes) body = JSON.stringify({ model: "fake-model", messages: [{ role: "user", content: "x".repeat(o.padBytes) }] });
const headers = Object.assign({ "content-type": "application/json" }, o.headers);
if (body !== undefined && !o.chunked) headers["content-length"] = String(Buffer.byteLength(body));
let printed = false;
const print = (r) => { if (!printed) { printed = true; console.log("${MARK} " + o.name + " " + JSON.stringify(r)); } };
const req = http.request({ socketPath: o.socket, method: o.method, path: o.path, headers }, (res) => {
  let text = "";
  res.setEncoding("utf8");
  res.on("data", (c) => (text += c));
  res.on("end", () => print({ status: res.statusCode, headers: res.headers, body: text }));
});
req.on("error", (e) => print({ error: e.code || e.message }));
if (body === undefined) req.end();
else if (o.chunked) { for (let i = 0; i < body.length; i += 65536) req.write(body.slice(i, i + 65536)); req.end(); }
else req.end(body);
`;

/** A `sh -c` command line that runs the probe with the container's own node. */
export function probeCommand(probe: SocketProbe): string {
  const separator = probe.path.includes('?') ? '&' : '?';
  const spec = { ...probe, path: `${probe.path}${separator}probe=${probe.name}` };
  const script = `const o = ${JSON.stringify(spec)};${PROBE_SCRIPT}`.replace(/\n/g, ' ');
  if (script.includes("'")) throw new Error(`probe ${probe.name} cannot be quoted for sh: it contains a single quote`);
  return `node -e '${script}'`;
}

/** The probe results in shell tool outputs, by probe name. */
export function parseProbeResults(outputs: readonly string[]): Map<string, ProbeResult> {
  const results = new Map<string, ProbeResult>();
  const line = new RegExp(`^${MARK} (\\S+) (.*)$`, 'gm');
  for (const output of outputs) {
    for (const match of output.matchAll(line)) results.set(match[1]!, JSON.parse(match[2]!) as ProbeResult);
  }
  return results;
}

/** The tool results an agent sent back to the model in one request. */
export function toolOutputs(request: RecordedRequest): string[] {
  const messages = request.body.messages as { role: string; content: unknown }[];
  return messages.filter((m) => m.role === 'tool').map((m) => String(m.content));
}

/** The error code of an OpenAI-style error body, as the proxy writes it. */
export function errorCode(result: ProbeResult | undefined): string | undefined {
  if (result?.body === undefined) return undefined;
  try {
    return (JSON.parse(result.body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
