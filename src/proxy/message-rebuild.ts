/*
 * The messages and tools that go upstream are rebuilt from known keys only. A key the proxy does
 * not know is not passed on, at any depth: an `image_url` tucked into a text part would make the
 * provider fetch a URL the agent chose, and an unknown field may cost money the reservation did
 * not count. Call after checkMessageContent and the tools check have accepted the request.
 */

type Fields = Record<string, unknown>;

const MESSAGE_KEYS = ['role', 'content', 'name', 'tool_call_id', 'refusal'] as const;
const FUNCTION_KEYS = ['name', 'description', 'parameters', 'strict'] as const;

export interface Rebuilt<T> {
  value: T;
  /** Paths of the keys left out, for the debug log. */
  dropped: string[];
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Copies the listed keys that are present; records the others as dropped under `path`. */
function pick(source: Fields, keys: readonly string[], path: string, dropped: string[]): Fields {
  const out: Fields = {};
  for (const [key, value] of Object.entries(source)) {
    if (keys.includes(key)) out[key] = value;
    else dropped.push(`${path}.${key}`);
  }
  return out;
}

/** A text or refusal part: its type and its one text field; a (host-built) image part: its URL and detail. */
function rebuildPart(part: Fields, path: string, dropped: string[]): Fields {
  const type = part.type as string;
  const out = pick(part, ['type', type], path, dropped);
  if (type === 'image_url' && isObject(out.image_url)) out.image_url = pick(out.image_url, ['url', 'detail'], `${path}.image_url`, dropped);
  return out;
}

function rebuildToolCall(call: unknown, path: string, dropped: string[]): unknown {
  if (!isObject(call)) return call;
  const out = pick(call, ['id', 'type', 'function'], path, dropped);
  if (isObject(out.function)) out.function = pick(out.function, ['name', 'arguments'], `${path}.function`, dropped);
  return out;
}

function rebuildMessage(message: Fields, path: string, dropped: string[]): Fields {
  const keys: readonly string[] = message.role === 'assistant' ? [...MESSAGE_KEYS, 'tool_calls'] : MESSAGE_KEYS;
  const out = pick(message, keys, path, dropped);
  if (Array.isArray(out.content)) out.content = out.content.map((part: Fields, j) => rebuildPart(part, `${path}.content[${j}]`, dropped));
  if (Array.isArray(out.tool_calls)) out.tool_calls = out.tool_calls.map((call, j) => rebuildToolCall(call, `${path}.tool_calls[${j}]`, dropped));
  return out;
}

/** The checked messages with known keys only. */
export function rebuildMessages(messages: readonly Fields[]): Rebuilt<Fields[]> {
  const dropped: string[] = [];
  const value = messages.map((m, i) => rebuildMessage(m, `messages[${i}]`, dropped));
  return { value, dropped };
}

/** The checked function tools: type and function (name, description, parameters, strict). */
export function rebuildTools(tools: readonly Fields[]): Rebuilt<Fields[]> {
  const dropped: string[] = [];
  const value = tools.map((tool, i) => {
    const out = pick(tool, ['type', 'function'], `tools[${i}]`, dropped);
    if (isObject(out.function)) out.function = pick(out.function, FUNCTION_KEYS, `tools[${i}].function`, dropped);
    return out;
  });
  return { value, dropped };
}
