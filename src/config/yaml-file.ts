import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors.js';

/** Reads a YAML file and validates it, turning every problem into a ConfigError with a line. */
export function loadYamlFile<S extends z.ZodType>(file: string, schema: S, whatItIs: string): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, undefined, `cannot read ${whatItIs}: ${(err as Error).message}`, 'check the path and permissions');
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0]?.line;
    throw new ConfigError(file, line, `invalid YAML: ${yamlError.message.split('\n')[0]}`, 'correct the YAML syntax on that line (indentation, colons, quotes)');
  }
  const data: unknown = doc.toJS() ?? {};
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;

  const issue = parsed.error.issues[0]!;
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys' && issue.keys[0]) path.push(issue.keys[0]);
  const line = lineOf(doc.getIn(path, true), lineCounter) ?? lineOf(doc.getIn(path.slice(0, -1), true), lineCounter);
  const key = path.length ? path.join('.') : '(top level)';
  throw new ConfigError(file, line, `${key}: ${issue.message}`, fixFor(issue.code, key));
}

function lineOf(node: unknown, counter: LineCounter): number | undefined {
  if (!isNode(node) || !node.range) return undefined;
  return counter.linePos(node.range[0]).line;
}

function fixFor(code: string, key: string): string {
  switch (code) {
    case 'unrecognized_keys':
      return 'remove or rename the unknown key (see README "Configuration" for the valid keys)';
    case 'invalid_type':
      return `give ${key} a value of the expected type`;
    default:
      return `change ${key} as described`;
  }
}
