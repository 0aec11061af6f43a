/**
 * The wire contract between the host and the agent runner, spoken over the group's
 * Unix socket (mounted at AGENT_SOCKET_PATH inside the container). Plain JSON over HTTP.
 *
 *   GET  /enclave/turn           long-poll: 200 + TurnRequest, or 204 when nothing arrived in time
 *   POST /enclave/turn/result    body TurnResult; answers 204
 *   POST /enclave/turn/live      body LiveUpdate (the answer as it is written); answers 204
 *   POST /enclave/tools/<name>   body HostToolRequest; answers 200 HostToolResponse
 *                                (the tools and their results are in host-tool-contract.ts)
 *   POST /v1/chat/completions    OpenAI-compatible; the host adds the key and forwards
 */

export const AGENT_SOCKET_DIR = '/run/enclave';
export const AGENT_SOCKET_PATH = `${AGENT_SOCKET_DIR}/api.sock`;
export const WORKSPACE_DIR = '/workspace';
export const MEMORY_DIR = `${WORKSPACE_DIR}/memory`;
export const GLOBAL_MEMORY_DIR = `${WORKSPACE_DIR}/global`;
export const SKILLS_DIR = `${WORKSPACE_DIR}/skills`;
/** Files people sent (photos, voice notes, documents), staged read-only by the host: INBOX_DIR/<message id>/<name>. */
export const INBOX_DIR = `${WORKSPACE_DIR}/inbox`;

export const TURN_PATH = '/enclave/turn';
export const TURN_RESULT_PATH = '/enclave/turn/result';
export const HOST_TOOLS_PATH = '/enclave/tools/';
export const TURN_LIVE_PATH = '/enclave/turn/live';

/**
 * A field the host's proxy adds to a stream chunk when the provider failed after its first tokens
 * and the next model of the group answers from the start on the same stream (value: why).
 */
export const STREAM_RESTART_FIELD = 'enclave_restart';

/** What the runner tells the host while a turn runs, so the chat can show the answer being written. */
export type LiveEvent =
  /** More of the answer's text. */
  | { kind: 'text'; text: string }
  /** The text of the current model call so far is not the answer (tool calls follow): forget it. */
  | { kind: 'discard' }
  /** A short line about a tool step ("searching the web…"). */
  | { kind: 'progress'; text: string }
  /** The model call started over with another model: what was shown of it is replaced. */
  | { kind: 'restart'; reason: string };

export interface LiveUpdate {
  turnId: string;
  events: LiveEvent[];
}

export interface ChatTurnMessage {
  role: 'user' | 'assistant';
  content: string;
  /**
   * User messages only: images the host built for this turn (data: URLs of photos it downloaded,
   * resized and stripped), sent to the model as image parts after the text. The proxy passes no
   * other image.
   */
  images?: string[];
}

export interface TurnRequest {
  turnId: string;
  group: string;
  /** What the assistant calls itself (enclave.yaml assistantName). */
  assistantName: string;
  model: string;
  /** Conversation so far in this session, oldest first; the new user messages are last. */
  messages: ChatTurnMessage[];
  maxSteps: number;
  /** Extra system text from the host (channel, chat title, time, ...). */
  context: string;
  /** Host-performed tools the group enabled (send_message, schedule_task, web_fetch, ...). */
  tools: string[];
  /** Enabled skills, mounted read-only at SKILLS_DIR/<name>/SKILL.md. */
  skills: SkillSummary[];
}

export interface SkillSummary {
  name: string;
  description: string;
}

export interface HostToolRequest {
  turnId: string;
  args: Record<string, unknown>;
}

export interface HostToolResponse extends ToolResponse {
  /** The tool's answer for the model (JSON-able). */
  result?: unknown;
}

export interface TurnResult {
  turnId: string;
  ok: boolean;
  /** The final answer for the chat; empty when the agent chose to stay silent. */
  reply: string;
  error?: string;
  steps: number;
}

export interface ToolResponse {
  ok: boolean;
  error?: string;
}
