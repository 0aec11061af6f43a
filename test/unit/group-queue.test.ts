import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupQueue } from '../../src/core/group-queue.js';
import { waitFor } from '../helpers/wait.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('one turn per group at a time, at most N overall, and fair between groups', async () => {
  const order: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred>>();
  let concurrent = 0;
  let maxConcurrent = 0;
  const perGroup = new Map<string, number>();
  const queue = new GroupQueue(2, async (g) => {
    concurrent++;
    perGroup.set(g, (perGroup.get(g) ?? 0) + 1);
    assert.equal(perGroup.get(g), 1, `${g} ran twice at once`);
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    order.push(g);
    const gate = deferred();
    gates.set(g, gate);
    await gate.promise;
    perGroup.set(g, perGroup.get(g)! - 1);
    concurrent--;
  }, () => assert.fail('no errors expected'));

  queue.enqueue('a');
  queue.enqueue('a'); // joins a's next turn
  queue.enqueue('b');
  queue.enqueue('c');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['a', 'b']);
  assert.equal(queue.waitingCount, 1);
  queue.enqueue('a'); // still only one follow-up turn for a
  gates.get('a')!.resolve();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['a', 'b', 'c'], 'c waited longer than a\'s second turn, so it goes first');
  gates.get('b')!.resolve();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['a', 'b', 'c', 'a']);
  gates.get('c')!.resolve();
  gates.get('a')!.resolve();
  await queue.idle();
  assert.deepEqual(order, ['a', 'b', 'c', 'a']);
  assert.equal(maxConcurrent, 2);
});

test('a failing turn is reported and does not block the group', async () => {
  const errors: string[] = [];
  let runs = 0;
  const queue = new GroupQueue(1, async () => {
    runs++;
    if (runs === 1) throw new Error('boom');
  }, (g, err) => errors.push(`${g}: ${(err as Error).message}`));
  queue.enqueue('x');
  await queue.idle();
  queue.enqueue('x');
  await queue.idle();
  assert.deepEqual(errors, ['x: boom']);
  assert.equal(runs, 2);
});

test('a lend that outlives its turn frees nothing more: the cap holds and the next turn lends afresh', async () => {
  let running = 0;
  let most = 0;
  const gates: (() => void)[] = [];
  const queue: GroupQueue = new GroupQueue(1, async (group) => {
    if (group === 'asker') {
      // Two parallel asks, then the turn ends (timed out) while both still wait.
      void queue.lendSlotWhile('asker', new Promise(() => undefined));
      void queue.lendSlotWhile('asker', new Promise(() => undefined));
      return;
    }
    running += 1;
    most = Math.max(most, running);
    await new Promise<void>((resolve) => gates.push(resolve));
    running -= 1;
  }, (group, err) => assert.fail(`${group}: ${String(err)}`));
  queue.enqueue('asker');
  await queue.idle();
  queue.enqueue('b');
  queue.enqueue('c');
  await waitFor('b to start', () => gates.length > 0 || undefined);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(gates.length, 1, 'c waits: the ended turn lends no slot');
  gates.shift()!();
  await waitFor('c to start', () => gates.length > 0 || undefined);
  gates.shift()!();
  await queue.idle();
  assert.equal(most, 1, 'with maxContainers 1 only one turn ran at a time');
});
