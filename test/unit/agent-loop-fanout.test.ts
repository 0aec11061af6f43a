import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAgentLoop } from '../../container/agent/agent-loop.js';
import { defineTool, ToolSet } from '../../container/agent/tools.js';
import { completion, ScriptedClient, toolCall } from '../helpers/agent-fakes.js';

test('spawn_helper calls of one step run at the same time; other tools run in order; results go back in the order of the calls', async () => {
  const events: string[] = [];
  const gates: (() => void)[] = [];
  const tools = new ToolSet([
    defineTool('spawn_helper', 'helper', {}, async (args) => {
      events.push(`start ${String(args.brief)}`);
      await new Promise<void>((r) => gates.push(r));
      return `answer ${String(args.brief)}`;
    }),
    defineTool('note', 'note', {}, async () => {
      events.push('note');
      return 'noted';
    }),
  ]);
  const client = new ScriptedClient([
    completion(null, [toolCall('a', 'spawn_helper', '{"brief":"A"}'), toolCall('n', 'note', '{}'), toolCall('b', 'spawn_helper', '{"brief":"B"}')]),
    completion('all done'),
  ]);
  const loop = runAgentLoop({ client, model: 'm', messages: [{ role: 'user', content: 'fan out' }], tools, maxSteps: 3 });
  while (gates.length < 2) await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['start A', 'start B'], 'both helpers started before either finished');
  for (const open of gates) open();
  const out = await loop;
  assert.equal(out.reply, 'all done');
  assert.deepEqual(events, ['start A', 'start B', 'note']);
  const sent = client.requests[1]!.messages.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id, m.content]);
  assert.deepEqual(sent, [['a', 'answer A'], ['n', 'noted'], ['b', 'answer B']]);
});
