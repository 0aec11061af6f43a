/*
 * An upper bound of the prompt tokens of a chat-completions request, for ANY input.
 *
 * Why it holds: a byte-level tokenizer (BPE over bytes, or SentencePiece with byte fallback)
 * never makes more tokens than the text it reads has UTF-8 bytes, plus its special tokens. The
 * text it reads is the provider's rendering of the request: every message's text, names, tool
 * calls and tool schemas, written either as they are or JSON-escaped (never longer than
 * JSON-escaped), with glue between them (role markers, quotes, ": ", ", ", type names, line
 * breaks, indentation, a float written out in full) and a preamble when tools are given. So
 * the bound counts every string and key of the request JSON-escaped, a fixed allowance per JSON
 * value for the glue, the indentation of each line in a schema, the glue of a tool call's
 * arguments written back out as JSON, and fixed allowances per message and per request.
 */

/** Special tokens and glue around each message (role markers, separators). */
const TOKENS_PER_MESSAGE = 16;
/** Once per request: priming the answer, a default system line. */
const TOKENS_PER_REQUEST = 64;
/** The fixed text some chat templates add when tools or a response schema are given. */
const TOKENS_FOR_SCHEMA_PREAMBLE = 1024;
/** Glue a rendering may write around one JSON value: quotes, separators, a type name, a line break. */
const GLUE_PER_VALUE = 32;
/** Indentation per nesting level of a schema written out line by line. */
const INDENT_PER_LEVEL = 4;
/** Fields written into the prompt as schemas (TypeScript-like or indented JSON). */
const SCHEMA_FIELDS = new Set(['tools', 'response_format', 'functions']);

interface Walk {
  /** Count the bytes of strings and keys (false: only the glue of the structure). */
  text: boolean;
  /** A schema: each line of a string may start with indentation and a comment marker. */
  lines: boolean;
}

function stringBytes(value: string): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

function lineBreaks(value: string): number {
  let count = 0;
  for (let i = value.indexOf('\n'); i !== -1; i = value.indexOf('\n', i + 1)) count++;
  return count;
}

/** Bytes a rendering of the value can take, glue included. */
function valueBound(value: unknown, depth: number, walk: Walk): number {
  const glue = GLUE_PER_VALUE + INDENT_PER_LEVEL * depth;
  if (typeof value === 'string') {
    const perLine = walk.lines ? lineBreaks(value) * glue : 0;
    return glue + perLine + (walk.text ? stringBytes(value) : 0);
  }
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + valueBound(item, depth + 1, walk), glue);
  if (typeof value === 'object' && value !== null) {
    let sum = glue;
    for (const [key, item] of Object.entries(value)) sum += (walk.text ? stringBytes(key) : 0) + valueBound(item, depth + 1, walk);
    return sum;
  }
  // Numbers, booleans, null: as JSON, and the allowance covers a longer spelling (1e21 as 1e+21, 1 as 1.0).
  return glue + (walk.text ? String(JSON.stringify(value) ?? '').length : 0);
}

function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A template may parse a tool call's arguments and write them out again with spaces and full
 * number spellings: the glue of that structure, on top of the argument text already counted.
 */
function toolArgumentsGlue(message: unknown): number {
  if (typeof message !== 'object' || message === null) return 0;
  const calls = (message as { tool_calls?: unknown }).tool_calls;
  if (!Array.isArray(calls)) return 0;
  let sum = 0;
  for (const call of calls) {
    const args = (call as { function?: { arguments?: unknown } } | null)?.function?.arguments;
    if (typeof args === 'string') sum += valueBound(parsedJson(args), 0, { text: false, lines: true });
  }
  return sum;
}

function hasSchema(body: Readonly<Record<string, unknown>>): boolean {
  return [...SCHEMA_FIELDS].some((field) => {
    const value = body[field];
    return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== null;
  });
}

/** The most prompt tokens the request can cost, whatever its text and whichever byte-level tokenizer reads it. */
export function promptTokenBound(body: Readonly<Record<string, unknown>>): number {
  let bound = TOKENS_PER_REQUEST + (hasSchema(body) ? TOKENS_FOR_SCHEMA_PREAMBLE : 0);
  for (const [field, value] of Object.entries(body)) {
    bound += stringBytes(field) + valueBound(value, 1, { text: true, lines: SCHEMA_FIELDS.has(field) });
  }
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  for (const message of messages) bound += TOKENS_PER_MESSAGE + toolArgumentsGlue(message);
  return bound;
}
