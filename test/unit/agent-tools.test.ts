import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runAgentLoop, stepLimitMessage } from '../../container/agent/agent-loop.js';
import { SHELL_OUTPUT_MAX_BYTES, shellTool } from '../../container/agent/shell-tool.js';
import { buildSystemPrompt, PROMPT_FILE_MAX_BYTES } from '../../container/agent/system-prompt.js';
import { ToolSet } from '../../container/agent/tools.js';
import { runTurn } from '../../container/agent/turn.js';
import { WorkspacePaths } from '../../container/agent/workspace-paths.js';
import { READ_MAX_BYTES, WRITE_MAX_BYTES, workspaceTools } from '../../container/agent/workspace-tools.js';
import { completion, ScriptedClient, toolCall } from '../helpers/agent-fakes.js';

let base: string;
let root: string;
let memory: string;
let outside: string;
let tools: ToolSet;

const call = (name: string, args: Record<string, unknown>): Promise<string> => tools.call(name, JSON.stringify(args));

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'enclave-agent-tools-'));
  root = join(base, 'workspace');
  memory = join(root, 'memory');
  outside = join(base, 'outside');
  await mkdir(memory, { recursive: true });
  await mkdir(join(root, 'global'));
  await mkdir(join(root, 'skills', 'weather'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'outside secret');
  await writeFile(join(root, 'global', 'people.md'), 'Alice likes tea.');
  await writeFile(join(memory, 'MEMORY.md'), 'Remember: the meeting is on Friday.');
  await symlink(outside, join(memory, 'escape'));
  await symlink('../global/people.md', join(memory, 'to-global'));
  await symlink('MEMORY.md', join(memory, 'alias.md'));
  await symlink(join(outside, 'missing-dir', 'x'), join(memory, 'dangling'));
  tools = new ToolSet([...workspaceTools(new WorkspacePaths({ root, memory })), shellTool({ cwd: memory })]);
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('workspace confinement', () => {
  test('reads relative to the memory dir and inside the workspace', async () => {
    assert.equal(await call('read_file', { path: 'MEMORY.md' }), 'Remember: the meeting is on Friday.');
    assert.equal(await call('read_file', { path: '../global/people.md' }), 'Alice likes tea.');
    assert.equal(await call('read_file', { path: join(root, 'global', 'people.md') }), 'Alice likes tea.');
  });

  test('refuses .. escapes and absolute paths outside the workspace', async () => {
    assert.match(await call('read_file', { path: '../../outside/secret.txt' }), /^Error: refused: .* is outside/);
    assert.match(await call('read_file', { path: '/etc/passwd' }), /^Error: refused/);
    assert.match(await call('write_file', { path: '../../outside/new.txt', content: 'x' }), /^Error: refused/);
    assert.match(await call('list_files', { path: '../..' }), /^Error: refused/);
    await assert.rejects(stat(join(outside, 'new.txt')));
  });

  test('refuses symlinks that point outside the workspace', async () => {
    assert.match(await call('read_file', { path: 'escape/secret.txt' }), /^Error: refused: .*symbolic link/);
    assert.match(await call('list_files', { path: 'escape' }), /^Error: refused: .*symbolic link/);
    assert.match(await call('write_file', { path: 'escape/new.txt', content: 'x' }), /^Error: refused: .*symbolic link/);
    assert.match(await call('write_file', { path: 'escape/sub/new.txt', content: 'x' }), /^Error: refused/);
    assert.match(await call('write_file', { path: 'dangling', content: 'x' }), /^Error: refused/);
    await assert.rejects(stat(join(outside, 'new.txt')));
    await assert.rejects(stat(join(outside, 'sub')));
    await assert.rejects(stat(join(outside, 'missing-dir')));
  });

  test('writes only under memory, with a clear read-only error elsewhere', async () => {
    const direct = await call('write_file', { path: '../global/people.md', content: 'overwritten' });
    assert.match(direct, /^Error: refused: .*read-only\. Only .*memory is writable/);
    assert.match(await call('write_file', { path: 'to-global', content: 'overwritten' }), /read-only/);
    assert.match(await call('write_file', { path: '../skills/weather/SKILL.md', content: 'x' }), /read-only/);
    assert.equal(await readFile(join(root, 'global', 'people.md'), 'utf8'), 'Alice likes tea.');
  });

  test('creates files and parent dirs under memory, follows links that stay inside', async () => {
    assert.match(await call('write_file', { path: 'notes/2024/todo.md', content: 'buy milk' }), /^wrote 8 bytes/);
    assert.equal(await readFile(join(memory, 'notes', '2024', 'todo.md'), 'utf8'), 'buy milk');
    assert.match(await call('write_file', { path: 'notes/2024/todo.md', content: '\nbuy tea', append: true }), /^appended/);
    assert.equal(await readFile(join(memory, 'notes', '2024', 'todo.md'), 'utf8'), 'buy milk\nbuy tea');
    await call('write_file', { path: 'alias.md', content: 'via alias' });
    assert.equal(await readFile(join(memory, 'MEMORY.md'), 'utf8'), 'via alias');
    assert.match(await call('write_file', { path: '.', content: 'x' }), /^Error/);
  });

  test('lists without following symlinks', async () => {
    const listing = await call('list_files', {});
    assert.match(listing, /dir {3}global\//);
    assert.match(listing, /dir {3}memory\//);
    const mem = await call('list_files', { path: '.', recursive: true });
    assert.match(mem, /link {2}escape -> /);
    assert.match(mem, /file {2}notes\/2024\/todo\.md/);
    assert.doesNotMatch(mem, /secret\.txt/);
  });

  test('bad arguments become errors for the model', async () => {
    assert.match(await call('read_file', {}), /missing required argument "path"/);
    assert.match(await call('read_file', { path: 42 }), /must be a string/);
    assert.match(await tools.call('read_file', '{"path": '), /not valid JSON/);
    assert.match(await tools.call('read_file', '[1]'), /must be a JSON object/);
    assert.match(await tools.call('no_such_tool', '{}'), /unknown tool "no_such_tool"/);
  });
});

describe('size caps', () => {
  test('read returns the first 256 KiB with a notice', async () => {
    await writeFile(join(memory, 'big.txt'), 'a'.repeat(READ_MAX_BYTES + 1000));
    const text = await call('read_file', { path: 'big.txt' });
    assert.ok(text.startsWith('a'.repeat(READ_MAX_BYTES)));
    assert.match(text, /\[truncated: .* is 263144 bytes; only the first 262144 bytes are shown\]$/);
  });

  test('write refuses more than 1 MiB and writes nothing', async () => {
    const result = await call('write_file', { path: 'huge.txt', content: 'b'.repeat(WRITE_MAX_BYTES + 1) });
    assert.match(result, /limit is 1048576 bytes/);
    await assert.rejects(stat(join(memory, 'huge.txt')));
    assert.match(await call('write_file', { path: 'max.txt', content: 'b'.repeat(WRITE_MAX_BYTES) }), /^wrote 1048576 bytes/);
  });
});

describe('shell', () => {
  test('returns exit code and combined output, in the memory dir', async () => {
    const result = await call('shell', { command: 'pwd; echo oops >&2; exit 3' });
    assert.match(result, /^exit code 3\n/);
    assert.ok(result.includes(memory));
    assert.ok(result.includes('oops'));
  });

  test('stdout and stderr arrive in the order they were written', async () => {
    const command = 'i=0; while [ $i -lt 200 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; cat /no/such/file; echo "[end]"';
    const result = await call('shell', { command });
    const lines = result.split('\n').slice(1);
    const expected = Array.from({ length: 200 }, (_, i) => [`out ${i}`, `err ${i}`]).flat();
    assert.deepEqual(lines.slice(0, 400), expected);
    assert.match(lines[400] ?? '', /no\/such\/file/);
    assert.equal(lines[401], '[end]');
  });

  test('a syntax error in the command is reported as the shell reports it', async () => {
    assert.match(await call('shell', { command: 'echo ok; if then' }), /^exit code 2\n.*(syntax error|unexpected)/s);
  });

  // The test timeout only stops a broken run from hanging; nothing here measures time.
  test('kills the command group on timeout', { timeout: 15_000 }, async () => {
    const result = await call('shell', { command: 'sleep 20; echo never', timeout_seconds: 1 });
    assert.match(result, /^timed out after 1 s/);
    assert.doesNotMatch(result, /never/);
  });

  test('does not wait for background children after the shell exits', { timeout: 15_000 }, async () => {
    const result = await call('shell', { command: 'sleep 20 & echo started' });
    assert.match(result, /^exit code 0\nstarted/);
  });

  test('caps output with a truncation notice', async () => {
    const result = await call('shell', { command: 'i=0; while [ $i -lt 3000 ]; do echo "line $i of filler"; i=$((i+1)); done' });
    assert.match(result, /\[output truncated: \d+ more bytes were omitted; only the first 16384 bytes are shown\]$/);
    assert.ok(Buffer.byteLength(result) < SHELL_OUTPUT_MAX_BYTES + 300);
  });
});

describe('agent loop', () => {
  test('invalid JSON arguments and unknown tools do not crash the loop', async () => {
    const client = new ScriptedClient([
      completion(null, [toolCall('c1', 'write_file', '{"path": "x.md", "content": '), toolCall('c2', 'launch_rockets', '{}')]),
      completion('Done, sorry about that.'),
    ]);
    const out = await runAgentLoop({ client, model: 'm', messages: [{ role: 'user', content: 'hi' }], tools, maxSteps: 5 });
    assert.deepEqual(out, { reply: 'Done, sorry about that.', steps: 2, stepLimitHit: false });
    const second = client.requests[1]?.messages ?? [];
    const toolResults = second.filter((m) => m.role === 'tool');
    assert.equal(toolResults.length, 2);
    assert.match(String(toolResults[0]?.content), /not valid JSON/);
    assert.match(String(toolResults[1]?.content), /unknown tool "launch_rockets"/);
    assert.equal(second[1]?.role, 'assistant');
    assert.ok((client.requests[0]?.tools ?? []).some((t) => t.type === 'function' && t.function.name === 'read_file'));
  });

  test('stops at maxSteps model calls with a clear message', async () => {
    const client = new ScriptedClient([completion(null, [toolCall('c', 'list_files', '{}')])]);
    const out = await runAgentLoop({ client, model: 'm', messages: [{ role: 'user', content: 'loop' }], tools, maxSteps: 3 });
    assert.equal(client.requests.length, 3);
    assert.deepEqual(out, { reply: stepLimitMessage(3), steps: 3, stepLimitHit: true });
    assert.match(out.reply, /step limit \(3 model calls\)/);
  });
});

describe('turn', () => {
  const request = { turnId: 't1', group: 'family', assistantName: 'Enclave', model: 'm', maxSteps: 4, context: 'Channel: local', messages: [{ role: 'user' as const, content: 'hi' }], tools: ['send_message'], skills: [] };

  test('an exception becomes ok:false with the steps used', async () => {
    const client = new ScriptedClient([completion(null, [toolCall('c', 'list_files', '{}')]), new Error('429 budget exceeded')]);
    const result = await runTurn(request, { client, layout: { root, memory }, promptPaths: { memory, global: join(root, 'global'), skills: join(root, 'skills') } });
    assert.deepEqual(result, { turnId: 't1', ok: false, reply: '', error: '429 budget exceeded', steps: 2 });
  });

  test('a malformed request is answered, not thrown', async () => {
    const client = new ScriptedClient([completion('x')]);
    const result = await runTurn({ ...request, maxSteps: Number.NaN }, { client });
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /maxSteps/);
  });

  test('send_message goes to the host on the one host-tool path, with the turn id', async () => {
    const sent: unknown[] = [];
    const client = new ScriptedClient([completion(null, [toolCall('c', 'send_message', '{"text":"working on it"}')]), completion('done')]);
    const result = await runTurn(request, {
      client,
      callHostTool: async (tool, req) => {
        sent.push({ tool, ...req });
        return { ok: false, error: 'not your chat' };
      },
      layout: { root, memory },
      promptPaths: { memory, global: join(root, 'global'), skills: join(root, 'skills') },
    });
    assert.deepEqual(result, { turnId: 't1', ok: true, reply: 'done', steps: 2 });
    assert.deepEqual(sent, [{ tool: 'send_message', turnId: 't1', args: { text: 'working on it' } }]);
    const toolMessage = client.requests[1]?.messages.find((m) => m.role === 'tool');
    assert.equal(toolMessage?.content, '{"error":"not your chat"}');
  });
});

describe('system prompt', () => {
  test('has the group, the host context, memory, global memory and skills, capped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'enclave-prompt-'));
    try {
      const paths = { memory: join(dir, 'memory'), global: join(dir, 'global'), skills: join(dir, 'skills') };
      await mkdir(paths.memory);
      await mkdir(paths.global);
      await mkdir(join(paths.skills, 'calendar'), { recursive: true });
      await writeFile(join(paths.memory, 'MEMORY.md'), 'Bob is vegetarian.');
      await writeFile(join(paths.global, 'a.md'), 'Global fact A.');
      await writeFile(join(paths.global, 'b.md'), 'z'.repeat(PROMPT_FILE_MAX_BYTES + 10));
      await writeFile(join(paths.global, 'ignored.txt'), 'not markdown');
      const prompt = await buildSystemPrompt({ group: 'family', context: 'Channel: telegram, chat "Home"' }, paths);
      assert.match(prompt, /assistant for the group "family"/);
      assert.match(prompt, /Channel: telegram, chat "Home"/);
      assert.match(prompt, /Bob is vegetarian\./);
      assert.match(prompt, /Global fact A\./);
      assert.match(prompt, /\[truncated: the file is 32778 bytes/);
      assert.doesNotMatch(prompt, /not markdown/);
      assert.match(prompt, /- calendar \(instructions: .*calendar\/SKILL\.md\)/);
      assert.match(prompt, /edit .*MEMORY\.md with write_file to remember things across conversations/);

      const empty = await buildSystemPrompt({ group: 'g', context: '' }, { ...paths, memory: join(dir, 'nope') });
      assert.match(empty, /nothing remembered yet/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
