import { z } from 'zod';
import { formatChatRef } from '../../channels/chat-ref.js';
import { MAX_TASK_PROMPT_CHARS, type HostToolResults } from '../../container/agent/host-tool-contract.js';
import { TaskError, type TaskCaller, type TaskService } from '../services/task-service.js';
import { taskView } from '../services/task-view.js';
import type { HostTool, ToolCall, ToolDone } from './host-tool.js';
import { parseToolArgs, ToolRefusal } from './host-tool.js';

const optionalText = z.string().max(200).nullish();
const scheduleArgs = z.strictObject({
  prompt: z
    .string({ error: 'prompt must be a string' })
    .trim()
    .min(1, 'prompt is empty')
    .max(MAX_TASK_PROMPT_CHARS, `prompt is longer than ${MAX_TASK_PROMPT_CHARS} characters`),
  cron: optionalText,
  every: optionalText,
  at: optionalText,
});
const listArgs = z.strictObject({});
const cancelArgs = z.strictObject({
  id: z.union(
    [
      z.number().int().positive(),
      z.string().regex(/^#?\d{1,12}$/).transform((s) => Number(s.replace('#', ''))),
    ],
    { error: 'id must be a task number, as list_tasks shows it' },
  ),
});

/**
 * schedule_task, list_tasks and cancel_task, performed by the task service scoped to the caller's
 * group; the chat is the running turn's. Nothing in the arguments names a group or a chat, and
 * another group's task is reported as missing.
 */
export function taskTools(tasks: TaskService): HostTool[] {
  return [
    {
      name: 'schedule_task',
      perform: (call) =>
        serviceCall(() => {
          const args = parseToolArgs(scheduleArgs, call.args);
          const schedule = { cron: args.cron ?? undefined, every: args.every ?? undefined, at: args.at ?? undefined };
          const task = tasks.add({ group: call.group.name, chat: formatChatRef(call), threadId: call.threadId, prompt: args.prompt, schedule }, callerOf(call));
          return { result: { task: taskView(task) } satisfies HostToolResults['schedule_task'], audit: { task: task.id } };
        }),
    },
    {
      name: 'list_tasks',
      perform: (call) =>
        serviceCall(() => {
          parseToolArgs(listArgs, call.args);
          return { result: { tasks: tasks.list(callerOf(call)).map(taskView) } satisfies HostToolResults['list_tasks'] };
        }),
    },
    {
      name: 'cancel_task',
      perform: (call) =>
        serviceCall(() => {
          const { id } = parseToolArgs(cancelArgs, call.args);
          return { result: { task: taskView(tasks.cancel(id, callerOf(call))) } satisfies HostToolResults['cancel_task'], audit: { task: id } };
        }),
    },
  ];
}

function callerOf(call: ToolCall): TaskCaller {
  return { actor: `agent:${call.group.name}`, group: call.group.name };
}

/** The service's refusals become the agent's; anything else is a host fault. */
function serviceCall(run: () => ToolDone): ToolDone {
  try {
    return run();
  } catch (err) {
    if (err instanceof TaskError) throw new ToolRefusal(err.message, err.problem, err.taskId === undefined ? {} : { task: err.taskId });
    throw err;
  }
}
