import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { runAgentLoop, type ChatClient } from './agent-loop.js';
import { errorMessage } from './errors.js';
import { hostTools, type CallHostTool } from './host-tools.js';
import { LiveForwarder } from './live-forwarder.js';
import { progressLine } from './progress-lines.js';
import type { LiveUpdate, TurnRequest, TurnResult } from './protocol.js';
import { shellTool } from './shell-tool.js';
import { buildSystemPrompt, DEFAULT_PROMPT_PATHS, type PromptPaths } from './system-prompt.js';
import { ToolSet } from './tools.js';
import { DEFAULT_LAYOUT, WorkspacePaths, type WorkspaceLayout } from './workspace-paths.js';
import { workspaceTools } from './workspace-tools.js';

export interface TurnDeps {
  client: ChatClient;
  /** Host-performed tools (send_message, tasks, web_fetch): one path to the host for all of them. */
  callHostTool?: CallHostTool;
  layout?: WorkspaceLayout;
  promptPaths?: PromptPaths;
  log?: (line: string) => void;
  /** Sends the answer to the host as it is written (POST /enclave/turn/live); unset: only the final answer. */
  sendLive?: (update: LiveUpdate) => Promise<void>;
}

function checkRequest(request: TurnRequest): void {
  if (typeof request.turnId !== 'string' || request.turnId === '') throw new Error('turn request has no turnId');
  if (typeof request.model !== 'string' || request.model === '') throw new Error('turn request has no model');
  if (!Array.isArray(request.messages)) throw new Error('turn request has no messages array');
  if (typeof request.maxSteps !== 'number' || !(request.maxSteps >= 1)) throw new Error('turn request has no valid maxSteps');
}

/** Host-built images only (data: URLs of received photos); anything else in the field is left out. */
function imageParts(images: unknown): ChatCompletionContentPart[] {
  if (!Array.isArray(images)) return [];
  return images
    .filter((url): url is string => typeof url === 'string' && url.startsWith('data:image/'))
    .map((url) => ({ type: 'image_url', image_url: { url } }));
}

function chatMessages(request: TurnRequest): ChatCompletionMessageParam[] {
  return request.messages.map((message) => {
    if (message.role === 'assistant') return { role: 'assistant', content: String(message.content) };
    const images = imageParts(message.images);
    if (images.length === 0) return { role: 'user', content: String(message.content) };
    return { role: 'user', content: [{ type: 'text', text: String(message.content) }, ...images] };
  });
}

/** Runs one turn to a TurnResult; never throws. */
export async function runTurn(request: TurnRequest, deps: TurnDeps): Promise<TurnResult> {
  let steps = 0;
  const counting: ChatClient = {
    chat: {
      completions: {
        create: (body) => {
          steps++;
          return deps.client.chat.completions.create(body);
        },
      },
    },
  };
  const live = deps.sendLive ? new LiveForwarder(String(request.turnId), deps.sendLive, deps.log) : undefined;
  try {
    checkRequest(request);
    const layout = deps.layout ?? DEFAULT_LAYOUT;
    const enabled = Array.isArray(request.tools) ? request.tools : ['send_message'];
    const refuse: CallHostTool = async (tool) => ({ ok: false, error: `${tool} is not available here` });
    const tools = new ToolSet([
      ...workspaceTools(new WorkspacePaths(layout)),
      shellTool({ cwd: layout.memory }),
      ...hostTools(request.turnId, enabled, deps.callHostTool ?? refuse),
    ]);
    const system = await buildSystemPrompt(request, deps.promptPaths ?? DEFAULT_PROMPT_PATHS);
    const result = await runAgentLoop({
      client: counting,
      model: request.model,
      messages: [{ role: 'system', content: system }, ...chatMessages(request)],
      tools,
      maxSteps: request.maxSteps,
      listener: {
        onText: (text) => live?.push({ kind: 'text', text }),
        onDiscard: () => live?.push({ kind: 'discard' }),
        onRestart: (reason) => live?.push({ kind: 'restart', reason }),
        onToolCall: (name, args, step) => {
          deps.log?.(`turn ${request.turnId}: step ${step}: tool ${name}`);
          live?.push({ kind: 'progress', text: progressLine(name, args) });
        },
      },
    });
    await live?.flush();
    return { turnId: request.turnId, ok: true, reply: result.reply, steps: result.steps };
  } catch (err) {
    await live?.flush();
    return { turnId: String(request.turnId ?? ''), ok: false, reply: '', error: errorMessage(err), steps };
  }
}
