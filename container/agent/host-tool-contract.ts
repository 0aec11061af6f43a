/**
 * The host-performed tools, as both sides see them: their names, the argument schemas and
 * descriptions the runner declares to the model, and the shapes of their results. The runner
 * forwards a call (POST HOST_TOOLS_PATH + name, body HostToolRequest); the host decides and answers
 * with a HostToolResponse whose `result` has the shape below. Shared by the runner and the host,
 * so this file imports nothing but its sibling contract for the team tools.
 */
import { TEAM_TOOL_NAMES, TEAM_TOOL_SPECS, type TeamToolResults } from './team-tool-contract.js';

export const HOST_TOOL_NAMES = ['send_message', 'send_file', 'schedule_task', 'list_tasks', 'cancel_task', 'web_fetch', ...TEAM_TOOL_NAMES] as const;
export type HostToolName = (typeof HOST_TOOL_NAMES)[number];

export const TASK_TOOL_NAMES = ['schedule_task', 'list_tasks', 'cancel_task'] as const;
export type TaskToolName = (typeof TASK_TOOL_NAMES)[number];

export const MAX_TASK_PROMPT_CHARS = 4000;

export function isHostToolName(name: string): name is HostToolName {
  return (HOST_TOOL_NAMES as readonly string[]).includes(name);
}

/** One tool in OpenAI function-calling terms (the `function` part of a ChatCompletionFunctionTool). */
export interface HostToolSpec {
  name: HostToolName;
  description: string;
  parameters: Record<string, unknown>;
}

export const HOST_TOOL_SPECS: readonly HostToolSpec[] = [
  {
    name: 'send_message',
    description:
      'Send a message to the chat right away, before your final answer (e.g. a progress note during a long task). ' +
      'Your final answer is sent anyway; do not repeat it here.',
    parameters: {
      type: 'object',
      properties: { text: { type: 'string', description: 'The message text' } },
      required: ['text'],
      additionalProperties: false,
    },
  },
  {
    name: 'send_file',
    description:
      'Send a file from your memory folder to the chat (a photo, a document such as a PDF, or audio), with an optional caption. ' +
      'Give the path relative to your memory folder, e.g. "reports/summary.pdf" for /workspace/memory/reports/summary.pdf. ' +
      'The host checks the file (no links, size limit) and decides from its content whether it is shown as a photo, a voice note or a document.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Path of the file relative to your memory folder' },
        caption: { type: 'string', description: 'Optional text shown with the file (at most 1024 characters)' },
      },
      required: ['path'],
      additionalProperties: false,
    },
  },
  {
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
  {
    name: 'list_tasks',
    description: 'List the scheduled tasks of this group: id, schedule, next run, last result.',
    parameters: { type: 'object', properties: {}, additionalProperties: false },
  },
  {
    name: 'cancel_task',
    description: 'Cancel one of this group\'s scheduled tasks by its id (from list_tasks).',
    parameters: {
      type: 'object',
      properties: { id: { type: 'integer', description: 'The task id' } },
      required: ['id'],
      additionalProperties: false,
    },
  },
  {
    name: 'web_fetch',
    description:
      'Fetch one http(s) web page and get its text (performed by the host). Only domains on this group\'s allowlist can be reached; ' +
      'private and internal addresses never. Long pages are cut off.',
    parameters: {
      type: 'object',
      properties: { url: { type: 'string', description: 'Full http:// or https:// URL' } },
      required: ['url'],
      additionalProperties: false,
    },
  },
  ...TEAM_TOOL_SPECS,
];

/** A task as the agent (and `enclave tasks list --json`) sees it. */
export interface TaskView {
  id: number;
  prompt: string;
  schedule: string;
  timezone: string;
  status: 'active' | 'paused' | 'cancelled' | 'done';
  chat: string;
  /** ISO 8601 UTC, and the same in the task's time zone. */
  nextRunAt: string | null;
  nextRunLocal: string | null;
  lastRunAt: string | null;
  lastResult: string | null;
  failures: number;
}

export interface WebPage {
  url: string;
  status: number;
  contentType: string;
  text: string;
  truncated: boolean;
}

/** What `result` holds in a successful HostToolResponse, per tool. */
export interface HostToolResults extends TeamToolResults {
  send_message: { ok: true };
  send_file: { ok: true; kind: 'image' | 'audio' | 'voice' | 'document'; mime: string; bytes: number };
  schedule_task: { task: TaskView };
  list_tasks: { tasks: TaskView[] };
  cancel_task: { task: TaskView };
  web_fetch: WebPage;
}
