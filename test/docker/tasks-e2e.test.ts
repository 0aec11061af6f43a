import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SchedulerTimer } from '../../src/scheduler/scheduler.js';
import { TaskStore, type Task } from '../../src/scheduler/task-store.js';
import type { TaskView } from '../../container/agent/host-tool-contract.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { lastUserMessageOf, toolCall, toolResultsOf } from '../helpers/model-messages.js';

const skip = await dockerSkipReason();

const at = (iso: string) => Date.parse(iso);
/** The scheduler's own timer never fires: the test decides when it looks, with scheduler.tick(now). */
const handTimer: SchedulerTimer = { set: () => ({}), clear: () => undefined };

/** Everything the bot says in one local chat while `during` runs. */
async function saidIn(h: Harness, chatId: string, during: () => Promise<unknown>): Promise<string[]> {
  const texts: string[] = [];
  const stop = h.app.local.subscribe((e) => {
    if (e.kind === 'message' && e.message.chatId === chatId) texts.push(e.message.text);
  });
  try {
    await during();
  } finally {
    stop();
  }
  return texts;
}

test('a recurring task scheduled by the agent fires at the right local time in two time zones, across a restart, and counts failures', { skip }, async (t) => {
  let now = at('2026-03-10T06:00:00Z');
  const h = await startHarness({
    // Replies are counted as whole local messages here; live replies have tests of their own.
    enclaveYaml: 'channels:\n  local:\n    streaming: { mode: off }\n',
    groups: {
      berlin: 'chats: [local:berlin]\nmodel: fake-model\ntimezone: Europe/Berlin\n',
      ny: 'chats: [local:ny]\nmodel: fake-model\ntimezone: America/New_York\n',
    },
    start: { clock: () => now, schedulerTimer: handTimer },
  });
  t.after(() => h.stop());
  const tasks = () => new TaskStore(h.app.db, h.app.audit);
  const taskOf = (group: string): Task => tasks().list(group)[0] ?? assert.fail(`${group} has no task`);
  const tick = (iso: string) => {
    now = at(iso);
    return h.app.scheduler.tick(now);
  };

  await t.test('each agent schedules "09:00 every day" from its container; the task is its own group\'s and chat\'s', async () => {
    for (const [group, firstRun, local] of [
      ['berlin', '2026-03-10T08:00:00.000Z', '2026-03-10 09:00 GMT+1'],
      ['ny', '2026-03-10T13:00:00.000Z', '2026-03-10 09:00 EDT'],
    ] as const) {
      h.model.push({ toolCalls: [toolCall('schedule_task', { prompt: `Post the ${group} morning briefing`, cron: '0 9 * * *' })] }, { content: 'Scheduled.' });
      const r = await h.say(group, 'post the morning briefing every day at 9');
      assert.deepEqual(r.replies, ['Scheduled.']);
      const view = (JSON.parse(toolResultsOf(h.model.requests.at(-1)!)[0]!) as { task: TaskView }).task;
      assert.deepEqual([view.nextRunAt, view.nextRunLocal, view.chat], [firstRun, local, `local:${group}`]);
      const task = taskOf(group);
      assert.deepEqual(
        [task.group, task.channel, task.chatId, task.kind, task.spec, task.status, task.nextRunAt, task.createdBy],
        [group, 'local', group, 'cron', '0 9 * * *', 'active', at(firstRun), `agent:${group}`],
      );
    }
    assert.equal(tasks().list().length, 2);
  });

  await t.test('at 09:00 local time a turn runs in the group\'s container with the task prompt and the answer reaches its chat', async () => {
    const calls = h.model.requests.length;
    await tick('2026-03-10T07:59:00Z');
    assert.equal(h.model.requests.length, calls, 'nothing is due at 08:59 in Berlin');

    h.model.push({ content: 'Guten Morgen: the Berlin briefing.' });
    const berlinSaid = await saidIn(h, 'berlin', () => tick('2026-03-10T08:00:00Z'));
    assert.deepEqual(berlinSaid, ['Guten Morgen: the Berlin briefing.']);
    assert.equal(h.model.requests.length, calls + 1, 'only Berlin\'s task ran');
    assert.match(lastUserMessageOf(h.model.requests.at(-1)!), /^Scheduled task #\d+: Post the berlin morning briefing$/);
    assert.equal(h.app.containers.state('berlin').state, 'running');
    const berlin = taskOf('berlin');
    assert.deepEqual([berlin.lastRunAt, berlin.lastResult, berlin.failures, berlin.nextRunAt], [now, 'ok', 0, at('2026-03-11T08:00:00Z')]);
    assert.equal(taskOf('ny').lastRunAt, null);

    h.model.push({ content: 'Good morning, New York.' });
    const nySaid = await saidIn(h, 'ny', () => tick('2026-03-10T13:00:00Z'));
    assert.deepEqual(nySaid, ['Good morning, New York.']);
    assert.equal(h.model.requests.length, calls + 2);
    assert.match(lastUserMessageOf(h.model.requests.at(-1)!), /Post the ny morning briefing$/);
    assert.equal(taskOf('ny').nextRunAt, at('2026-03-11T13:00:00Z'));
  });

  await t.test('after a restart the missed runs are skipped, and the next run is 09:00 local time again (summer time too)', async () => {
    now = at('2026-03-28T12:00:00Z');
    await h.restart();
    const calls = h.model.requests.length;
    assert.equal(taskOf('berlin').nextRunAt, at('2026-03-29T07:00:00Z'), 'Berlin moves to summer time on 29 March: 09:00 is 07:00 UTC');
    assert.equal(taskOf('ny').nextRunAt, at('2026-03-28T13:00:00Z'));
    const skipped = h.app.audit
      .tail(100, { kind: 'task_change' })
      .filter((r) => r.detail.action === 'skipped_missed_runs')
      .map((r) => [r.group, r.detail.missed]);
    assert.deepEqual(skipped.sort(), [['berlin', 18], ['ny', 17]]);
    await tick('2026-03-28T12:00:00Z');
    assert.equal(h.model.requests.length, calls, 'no missed run was made up');

    h.model.push({ content: 'NY, Saturday.' });
    assert.deepEqual(await saidIn(h, 'ny', () => tick('2026-03-28T13:00:00Z')), ['NY, Saturday.']);
    h.model.push({ content: 'Berlin, first summer morning.' });
    assert.deepEqual(await saidIn(h, 'berlin', () => tick('2026-03-29T07:00:00Z')), ['Berlin, first summer morning.']);
    assert.equal(h.model.requests.length, calls + 2);
    assert.equal(taskOf('berlin').nextRunAt, at('2026-03-30T07:00:00Z'));
  });

  await t.test('group ny\'s agent cannot cancel (or see) Berlin\'s task; Berlin\'s own agent can', async () => {
    const berlinId = taskOf('berlin').id;
    const nyId = taskOf('ny').id;
    h.model.push({ toolCalls: [toolCall('cancel_task', { id: berlinId }), toolCall('list_tasks', {})] }, { content: 'Done.' });
    await h.say('ny', `cancel task ${berlinId}`);
    const [cancelled, listed] = toolResultsOf(h.model.requests.at(-1)!);
    assert.equal(cancelled, JSON.stringify({ error: `there is no task #${berlinId}` }));
    assert.deepEqual((JSON.parse(listed!) as { tasks: TaskView[] }).tasks.map((v) => v.id), [nyId]);
    assert.equal(taskOf('berlin').status, 'active');
    const denied = h.app.audit.tail(20, { kind: 'denial', group: 'ny' }).find((r) => r.detail.tool === 'cancel_task');
    assert.equal(denied?.detail.outcome, 'denied');

    h.model.push({ toolCalls: [toolCall('cancel_task', { id: berlinId })] }, { content: 'Cancelled.' });
    await h.say('berlin', `cancel task ${berlinId}`);
    assert.equal((JSON.parse(toolResultsOf(h.model.requests.at(-1)!)[0]!) as { task: TaskView }).task.status, 'cancelled');
    assert.equal(tasks().get(berlinId)?.status, 'cancelled');
  });

  await t.test('failed runs are counted, the chat is told after two in a row, and a success resets the count', async () => {
    const id = taskOf('ny').id;
    const failing = { status: 400, body: { error: { message: 'the provider refused this request' } } };

    h.model.push(failing);
    const first = await saidIn(h, 'ny', () => tick('2026-03-29T13:00:00Z'));
    assert.equal(first.length, 1, `only the turn's own failure is reported: ${JSON.stringify(first)}`);
    assert.match(first[0]!, /^Sorry, I could not answer that/);
    let task = taskOf('ny');
    assert.equal(task.failures, 1);
    assert.match(task.lastResult ?? '', /^error: /);
    assert.equal(task.nextRunAt, at('2026-03-30T13:00:00Z'), 'a failed run still moves on to the next slot');

    h.model.push(failing);
    const second = await saidIn(h, 'ny', () => tick('2026-03-30T13:00:00Z'));
    assert.equal(taskOf('ny').failures, 2);
    assert.ok(second.includes(`Task #${id} failed twice in a row: the turn failed (the chat got the reason)`), JSON.stringify(second));

    h.model.push({ content: 'Back to normal.' });
    assert.deepEqual(await saidIn(h, 'ny', () => tick('2026-03-31T13:00:00Z')), ['Back to normal.']);
    task = taskOf('ny');
    assert.deepEqual([task.failures, task.lastResult, task.status], [0, 'ok', 'active']);
    const runs = h.app.audit.tail(100, { kind: 'task_change', group: 'ny' }).filter((r) => r.detail.action === 'ran').slice(-3);
    assert.deepEqual(runs.map((r) => r.detail.ok), [false, false, true]);
  });
});
