import { refusal, type ProxyRefusal } from './refusal-errors.js';

/*
 * A gateway may inline references before rendering a schema into the prompt, and references can
 * nest so that the inlined schema grows exponentially: the prompt bound counts the schema as sent,
 * so references are refused. Long tool names are refused too: some renderings repeat a name.
 */

/** Schema keywords that point elsewhere or hold schemas to point to. */
const REFERENCE_KEYWORDS = new Set(['$ref', '$defs', 'definitions', '$dynamicRef', '$recursiveRef']);
/** Keywords whose value maps names (property names, not keywords) to schemas. */
const NAME_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas']);
/** OpenAI's limit; names are written into the prompt, sometimes more than once. */
export const MAX_TOOL_NAME_CHARS = 64;

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The path of the first reference keyword in a schema, if any. */
function referenceIn(schema: unknown, path: string): string | undefined {
  if (Array.isArray(schema)) {
    for (const [i, item] of schema.entries()) {
      const found = referenceIn(item, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(schema)) return undefined;
  for (const [key, value] of Object.entries(schema)) {
    if (REFERENCE_KEYWORDS.has(key)) return `${path}.${key}`;
    const children = NAME_MAPS.has(key) && isObject(value) ? Object.entries(value) : [[key, value] as const];
    for (const [name, child] of children) {
      const found = referenceIn(child, NAME_MAPS.has(key) ? `${path}.${key}.${name}` : `${path}.${name}`);
      if (found) return found;
    }
  }
  return undefined;
}

function nameTooLong(name: unknown, path: string): ProxyRefusal | undefined {
  if (typeof name !== 'string' || name.length <= MAX_TOOL_NAME_CHARS) return undefined;
  return refusal(400, 'invalid_request', `tool names may be at most ${MAX_TOOL_NAME_CHARS} characters; ${path} has ${name.length}`);
}

/** Refuses references in tool and response schemas and over-long tool names (in tools and in earlier tool calls). */
export function checkSchemas(tools: unknown, responseFormat: unknown, messages: readonly unknown[]): ProxyRefusal | undefined {
  const schemas: Array<[unknown, string]> = [];
  for (const [i, tool] of (Array.isArray(tools) ? tools : []).entries()) {
    const fn = isObject(tool) ? tool.function : undefined;
    if (!isObject(fn)) continue;
    const long = nameTooLong(fn.name, `tools[${i}].function.name`);
    if (long) return long;
    schemas.push([fn.parameters, `tools[${i}].function.parameters`]);
  }
  if (isObject(responseFormat)) schemas.push([responseFormat.json_schema, 'response_format.json_schema']);
  for (const [schema, path] of schemas) {
    const found = referenceIn(schema, path);
    if (found) return refusal(400, 'schema_not_allowed', `schemas may not use $ref, $defs or definitions (found ${found}); write the schema out in full`);
  }
  for (const [i, message] of messages.entries()) {
    const calls = isObject(message) && Array.isArray(message.tool_calls) ? message.tool_calls : [];
    for (const [j, call] of calls.entries()) {
      const fn = isObject(call) ? call.function : undefined;
      const long = isObject(fn) ? nameTooLong(fn.name, `messages[${i}].tool_calls[${j}].function.name`) : undefined;
      if (long) return long;
    }
  }
  return undefined;
}
