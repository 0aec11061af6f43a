import assert from 'node:assert/strict';
import { test } from 'node:test';
import { promptTokenBound } from '../../src/ledger/prompt-bound.js';

type Body = Record<string, unknown>;

/** A small seeded generator, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomAscii(bytes: number, seed: number): string {
  const next = seeded(seed);
  let text = '';
  while (text.length < bytes) text += String.fromCharCode(32 + Math.floor(next() * 95));
  return text;
}

function spacedDigits(bytes: number): string {
  let text = '';
  for (let i = 0; text.length < bytes; i++) text += `${i % 10} `;
  return text.slice(0, bytes);
}

const emoji = (bytes: number): string => '🦀😀🎉👍🏽'.repeat(Math.ceil(bytes / 18)).slice(0, Math.floor(bytes / 2));
const cjk = (bytes: number): string => '漢字仮名交じり文한국어'.repeat(Math.ceil(bytes / 36)).slice(0, Math.floor(bytes / 3));

function chat(content: string): Body {
  return { model: 'm', max_tokens: 100, messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content }] };
}

/** Many functions whose schemas carry most of the request, with line breaks and nesting. */
function toolHeavy(bytes: number): Body {
  const tools: unknown[] = [];
  for (let i = 0; JSON.stringify(tools).length < bytes; i++) {
    tools.push({
      type: 'function',
      function: {
        name: `tool_${i}`,
        description: `line one ${i}\nline two\n${spacedDigits(200)}`,
        parameters: {
          type: 'object',
          properties: {
            a: { type: 'string', description: `first\nsecond ${i}`, enum: ['x', 'y', 'z'] },
            b: { type: 'array', items: { type: 'object', properties: { c: { type: 'number', default: 1e15 }, d: { type: 'boolean' } } } },
          },
          required: ['a'],
        },
      },
    });
  }
  return { model: 'm', messages: [{ role: 'user', content: 'go' }], tools, tool_choice: 'auto' };
}

/** A conversation whose assistant turns carry tool calls with compact JSON arguments. */
function toolCallHistory(calls: number): Body {
  const messages: unknown[] = [{ role: 'user', content: 'go' }];
  for (let i = 0; i < calls; i++) {
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'f', arguments: `{"n":[1e15,2e15,${i}],"s":"\\u00e9"}` } }] });
    messages.push({ role: 'tool', tool_call_id: `c${i}`, content: spacedDigits(50) });
  }
  return { model: 'm', messages };
}

/**
 * Every text a provider's tokenizer may read, in the most generous renderings we know: each
 * message between marker strings (as text, not special tokens), name and tool call id included;
 * tool schemas and arguments as JSON indented by 4 with a space after every separator, and the
 * schema's description lines again as "// " comments (OpenAI's TypeScript-like form).
 */
function renderedBytes(body: Body): number {
  const parts: string[] = [];
  for (const m of body.messages as Array<Record<string, unknown>>) {
    parts.push(`<|start|>${String(m.role)}${m.name ? `:${String(m.name)}` : ''}<|message|>`);
    if (typeof m.content === 'string') parts.push(m.content);
    if (typeof m.tool_call_id === 'string') parts.push(m.tool_call_id);
    for (const call of (m.tool_calls as Array<{ id: string; function: { name: string; arguments: string } }> | undefined) ?? []) {
      parts.push(call.id, call.function.name, spaced(JSON.parse(call.function.arguments)));
    }
    parts.push('<|end|>');
  }
  if (body.tools) {
    parts.push(spaced(body.tools));
    const comments = JSON.stringify(body.tools).match(/"description":"(?:[^"\\]|\\.)*"/g) ?? [];
    for (const c of comments) parts.push((JSON.parse(c.slice(14)) as string).split('\n').map((line) => `        // ${line}`).join('\n'));
  }
  return Buffer.byteLength(parts.join(''), 'utf8');
}

/** JSON as Python's json.dumps(indent=4) writes it: floats in full, a space after each separator. */
function spaced(value: unknown): string {
  return JSON.stringify(value, null, 4)
    .replace(/,\n/g, ', \n')
    .replace(/(\d)(\n|,|$)/g, '$1.0$2');
}

const INPUTS: Array<[string, Body]> = [
  ['random ASCII', chat(randomAscii(300_000, 7))],
  ['spaced digits', chat(spacedDigits(300_000))],
  ['digits and bars', chat(Array.from({ length: 100_000 }, (_, i) => i % 10).join('|'))],
  ['emoji', chat(emoji(300_000))],
  ['CJK', chat(cjk(300_000))],
  ['line breaks', chat('\n'.repeat(300_000))],
  ['quotes and backslashes', chat('"\\'.repeat(150_000))],
  ['control characters', chat('\u0001\u0002'.repeat(50_000))],
  ['tool-schema heavy', toolHeavy(300_000)],
  ['tool-call history', toolCallHistory(500)],
  ['many tiny messages', { model: 'm', messages: Array.from({ length: 5_000 }, () => ({ role: 'user', content: 'x', name: 'n' })) }],
];

test('the prompt bound is at least one token per byte of every text the model can see, for every kind of input', () => {
  for (const [kind, body] of INPUTS) {
    const bound = promptTokenBound(body);
    const json = Buffer.byteLength(JSON.stringify(body), 'utf8');
    const rendered = renderedBytes(body);
    assert.ok(bound >= json, `${kind}: bound ${bound} < ${json} bytes of request JSON`);
    assert.ok(bound >= rendered, `${kind}: bound ${bound} < ${rendered} bytes as a template renders it`);
  }
});

test('the bound stays close to the bytes for plain text, so honest calls are not refused early', () => {
  for (const [kind, body] of INPUTS.slice(0, 5)) {
    const bound = promptTokenBound(body);
    const json = Buffer.byteLength(JSON.stringify(body), 'utf8');
    assert.ok(bound <= json * 1.01 + 2_000, `${kind}: bound ${bound} is far above ${json} bytes`);
  }
});

test('every message, tool and line of a schema adds to the bound', () => {
  const one = promptTokenBound(chat('hello'));
  assert.ok(promptTokenBound({ ...chat('hello'), messages: [...(chat('hello').messages as unknown[]), { role: 'user', content: '' }] }) > one, 'an empty message costs its markers');
  const withTool = { ...chat('hello'), tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }] };
  assert.ok(promptTokenBound(withTool) >= one + 1024, 'tools bring a template preamble');
  const flat = { ...withTool, tools: [{ type: 'function', function: { name: 'f', description: 'a b c d' } }] };
  const lines = { ...withTool, tools: [{ type: 'function', function: { name: 'f', description: 'a\nb\nc\nd' } }] };
  assert.ok(promptTokenBound(lines) > promptTokenBound(flat), 'each schema line may be indented and commented');
});
