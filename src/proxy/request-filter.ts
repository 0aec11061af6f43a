import type { IncomingHttpHeaders } from 'node:http';
import type { GroupConfig } from '../config/groups.js';
import { checkMessageContent } from './message-content.js';
import { rebuildMessages, rebuildTools } from './message-rebuild.js';
import { refusal, type ProxyRefusal } from './refusal-errors.js';
import { checkSchemas } from './schema-check.js';

/** What the agent runner's SDK sends (its placeholder key); the host replaces it with the real key. */
export const RUNNER_AUTHORIZATION = 'Bearer enclave-proxy';

/**
 * The chat-completions fields that go upstream. Everything else is dropped (and logged at debug):
 * fields that cost extra or store data at the provider (audio, modalities, prediction,
 * service_tier, store, metadata, web_search_options, user) are not on the list on purpose.
 */
export const FORWARDED_CHAT_FIELDS: readonly string[] = [
  'model',
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'stream',
  'stream_options',
  'response_format',
  'seed',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'reasoning_effort',
  'verbosity',
];
const FORWARDED = new Set(FORWARDED_CHAT_FIELDS);

/** Body fields (compared lowercase without - and _) that try to pick the key, the upstream or the routing. */
const FORBIDDEN_FIELDS = new Set([
  'apikey', 'key', 'secret', 'token', 'authorization', 'auth', 'credentials',
  'baseurl', 'apibase', 'url', 'endpoint', 'host', 'apiversion', 'azureendpoint', 'azuredeployment',
  'organization', 'org', 'project',
  'provider', 'providers', 'customllmprovider', 'route', 'models', 'fallbacks',
  'headers', 'extraheaders', 'extrabody', 'extraquery',
]);
const FORBIDDEN_FIELD_PARTS = ['apikey', 'baseurl', 'apibase', 'secret', 'credential'];

/** Header names (compared the same way) that name a key or an upstream. */
const FORBIDDEN_HEADER_PARTS = ['apikey', 'baseurl', 'apibase', 'organization', 'upstream', 'endpoint', 'proxyauthorization'];
const FORBIDDEN_HEADERS = new Set(['openaiproject', 'xprovider', 'xtarget', 'xtargeturl', 'xmodelprovider']);

function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

function isForbiddenField(name: string): boolean {
  const n = normalise(name);
  return FORBIDDEN_FIELDS.has(n) || FORBIDDEN_FIELD_PARTS.some((part) => n.includes(part));
}

function isForbiddenHeader(name: string): boolean {
  const n = normalise(name);
  return FORBIDDEN_HEADERS.has(n) || FORBIDDEN_HEADER_PARTS.some((part) => n.includes(part));
}

/** No Authorization, or exactly the runner's placeholder; no header that names a key or an upstream. */
export function checkHeaders(headers: IncomingHttpHeaders): ProxyRefusal | undefined {
  const auth = headers.authorization;
  if (auth !== undefined && auth !== RUNNER_AUTHORIZATION) {
    return refusal(400, 'authorization_not_allowed', `the proxy adds the provider key itself; send no Authorization header or "${RUNNER_AUTHORIZATION}"`);
  }
  const named = Object.keys(headers).filter(isForbiddenHeader);
  if (named.length > 0) {
    return refusal(400, 'header_not_allowed', `headers that name a key or an upstream are not allowed: ${named.join(', ')}`);
  }
  return undefined;
}

export interface ChatRequest {
  model: string;
  stream: boolean;
  /** The output cap that was set on the request (the group's cap or less). */
  maxOutputTokens: number;
  /** The allowlisted body; `model` is replaced per failover candidate. */
  body: Record<string, unknown>;
  /** Fields that were not on the allowlist and were left out. */
  dropped: string[];
  /** The host-built image parts in the request (each occurrence counted) and their 512×512 tiles, priced per called model. */
  images: { count: number; tiles: number };
  /** The body with each image's data: URL emptied, for the prompt bound (the images are priced by their tiles). */
  boundBody: Record<string, unknown>;
}

/** Tiles of a host-built image for this group's turn; undefined: not built by the host, refused. */
export type HostImageTokens = (url: string) => number | undefined;

/** Image parts one request may carry: every occurrence is priced, and a photo repeated hundreds of times is refused. */
export const MAX_IMAGE_PARTS_PER_REQUEST = 8;

/** detail: what the audit row should record beyond the refusal itself. */
export type FilterResult = { ok: true; request: ChatRequest } | { ok: false; refusal: ProxyRefusal; detail?: Record<string, unknown> };

function refuse(status: number, code: string, message: string): FilterResult {
  return { ok: false, refusal: refusal(status, code, message) };
}

function tokenLimit(value: unknown): number | undefined | 'invalid' {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 'invalid';
}

/** Checks a chat-completions body against the group's rules and builds what may go upstream. */
export function filterChatRequest(raw: unknown, group: GroupConfig, hostImagesOfTurn?: HostImageTokens): FilterResult {
  // Each image is looked up (hashed) once per request, though both the check and the pricing ask.
  const looked = new Map<string, number | undefined>();
  const hostImages: HostImageTokens | undefined =
    hostImagesOfTurn && ((url) => (looked.has(url) ? looked.get(url) : looked.set(url, hostImagesOfTurn(url)).get(url)));
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return refuse(400, 'invalid_request', 'the request body must be a JSON object');
  const input = raw as Record<string, unknown>;
  const forbidden = Object.keys(input).filter(isForbiddenField);
  if (forbidden.length > 0) {
    return refuse(400, 'field_not_allowed', `fields that set a key, an upstream or the routing are not allowed: ${forbidden.join(', ')}`);
  }
  const model = input.model;
  if (typeof model !== 'string' || !group.allowedModels.includes(model)) {
    return refuse(403, 'model_not_allowed', `model ${String(model)} is not allowed for this group (allowed: ${group.allowedModels.join(', ')})`);
  }
  if (!Array.isArray(input.messages)) return refuse(400, 'invalid_request', 'messages must be an array');
  const contentProblem = checkMessageContent(input.messages, hostImages && ((url) => hostImages(url) !== undefined));
  if (contentProblem) return { ok: false, refusal: contentProblem.refusal, detail: contentProblem.detail };
  // Only function tools: a provider-hosted tool (web search, code interpreter, ...) would reach the network for the agent.
  if (input.tools !== undefined && input.tools !== null) {
    if (!Array.isArray(input.tools)) return refuse(400, 'invalid_request', 'tools must be an array');
    const hosted = input.tools.find((t) => typeof t !== 'object' || t === null || (t as { type?: unknown }).type !== 'function');
    if (hosted !== undefined) return refuse(400, 'tool_not_allowed', `only function tools are allowed, not ${JSON.stringify((hosted as { type?: unknown } | null)?.type ?? hosted)}`);
  }
  const schemaProblem = checkSchemas(input.tools, input.response_format, input.messages);
  if (schemaProblem) return { ok: false, refusal: schemaProblem };
  if (input.stream !== undefined && input.stream !== null && typeof input.stream !== 'boolean') return refuse(400, 'invalid_request', 'stream must be true or false');
  if (input.n !== undefined && input.n !== null && input.n !== 1) return refuse(400, 'invalid_request', 'n must be 1: the proxy asks for one answer per call');
  const maxTokens = tokenLimit(input.max_tokens);
  const maxCompletionTokens = tokenLimit(input.max_completion_tokens);
  if (maxTokens === 'invalid' || maxCompletionTokens === 'invalid') return refuse(400, 'invalid_request', 'max_tokens and max_completion_tokens must be positive integers');

  const body: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(input)) {
    if (FORWARDED.has(name)) body[name] = value;
    else dropped.push(name);
  }
  const messages = rebuildMessages(input.messages as Record<string, unknown>[]);
  body.messages = messages.value;
  dropped.push(...messages.dropped);
  if (Array.isArray(input.tools)) {
    const tools = rebuildTools(input.tools as Record<string, unknown>[]);
    body.tools = tools.value;
    dropped.push(...tools.dropped);
  }
  const stream = input.stream === true;
  if (stream) body.stream_options = { include_usage: true };
  else delete body.stream_options;

  const asked = Math.min(maxTokens ?? Infinity, maxCompletionTokens ?? Infinity);
  const maxOutputTokens = Math.min(asked, group.maxOutputTokens);
  if (maxCompletionTokens !== undefined) body.max_completion_tokens = maxOutputTokens;
  if (maxTokens !== undefined || maxCompletionTokens === undefined) body.max_tokens = maxOutputTokens;

  const images = pricedImages(messages.value, hostImages);
  if (images.count > MAX_IMAGE_PARTS_PER_REQUEST) {
    return refuse(400, 'too_many_images', `the request has ${images.count} image parts, more than the ${MAX_IMAGE_PARTS_PER_REQUEST} one call may carry; include each photo once`);
  }
  const counted = { count: images.count, tiles: images.tiles };
  return { ok: true, request: { model, stream, maxOutputTokens, body, dropped, images: counted, boundBody: images.count > 0 ? { ...body, messages: images.messages } : body } };
}

/**
 * The image parts and their tiles, and the messages with their data: URLs emptied: a photo is
 * priced by its tiles (what providers charge), not by the bytes of its base64 text.
 */
function pricedImages(messages: readonly Record<string, unknown>[], hostImages: HostImageTokens | undefined): { count: number; tiles: number; messages: unknown[] } {
  let count = 0;
  let tiles = 0;
  const out = messages.map((message) => {
    if (!Array.isArray(message.content)) return message;
    let changed = false;
    const content = (message.content as Record<string, unknown>[]).map((part) => {
      const url = part.type === 'image_url' ? (part.image_url as { url?: unknown } | undefined)?.url : undefined;
      const priced = typeof url === 'string' ? hostImages?.(url) : undefined;
      if (priced === undefined) return part;
      count += 1;
      tiles += priced;
      changed = true;
      return { ...part, image_url: { ...(part.image_url as Record<string, unknown>), url: '' } };
    });
    return changed ? { ...message, content } : message;
  });
  return { count, tiles, messages: out };
}
