/**
 * The task tools the agent may call; the host performs them for the agent's own group only
 * (POST HOST_TOOLS_PATH + name, body HostToolRequest). Shared by the runner, which declares them
 * to the model, and the host, which checks the same limits; so this file imports nothing.
 */

export const TASK_TOOL_NAMES = ['schedule_task', 'list_tasks', 'cancel_task'] as const;
export type TaskToolName = (typeof TASK_TOOL_NAMES)[number];

export const MAX_TASK_PROMPT_CHARS = 4000;

/** OpenAI function-calling format (ChatCompletionFunctionTool); `.function` is a HostToolSpec. */
export interface TaskToolSchema {
  type: 'function';
  function: { name: TaskToolName; description: string; parameters: Record<string, unknown> };
}

export const TASK_TOOL_SCHEMAS: readonly TaskToolSchema[] = [
  {
    type: 'function',
    function: {
      name: 'schedule_task',
      description:
        'Schedule a prompt to run later in this chat: at that time you are given the prompt as a new turn and your answer is posted here. ' +
        'Give exactly one of cron, every or at. Times are in the group\'s time zone. ' +
        'Turn phrases like "tomorrow at 9" into an exact "at" time yourself. Each run costs budget like any turn.',
      parameters: {
        type: 'object',
        properties: {
          prompt: {
            type: 'string',
            description: `What to do at each run, written as an instruction to yourself (at most ${MAX_TASK_PROMPT_CHARS} characters)`,
          },
          cron: { type: 'string', description: 'Recurring: 5-field cron expression, e.g. "0 9 * * 1-5" for weekdays at 09:00' },
          every: { type: 'string', description: 'Recurring: interval of at least 1 minute, e.g. "30m", "2h", "1d", "1h30m"' },
          at: {
            type: 'string',
            description: 'Once: ISO 8601 local time in the group\'s time zone ("2026-12-01T09:00") or with an offset ("2026-12-01T09:00+01:00"); within the next year',
          },
        },
        required: ['prompt'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'list_tasks',
      description: 'List the scheduled tasks of this group: id, schedule, next run, last result.',
      parameters: { type: 'object', properties: {}, additionalProperties: false },
    },
  },
  {
    type: 'function',
    function: {
      name: 'cancel_task',
      description: 'Cancel one of this group\'s scheduled tasks by its id (from list_tasks).',
      parameters: {
        type: 'object',
        properties: { id: { type: 'integer', description: 'The task id' } },
        required: ['id'],
        additionalProperties: false,
      },
    },
  },
];
