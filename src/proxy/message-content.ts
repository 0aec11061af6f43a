import { refusal, type ProxyRefusal } from './refusal-errors.js';

/**
 * Only text goes upstream. An image, audio or file part is refused, for two reasons: the
 * reservation estimates tokens from the request's bytes, and a short image URL can cost
 * thousands of tokens; and the provider fetches URLs itself, so an agent without a network
 * could send data out in one (https://attacker/x.png?d=...).
 */
const TEXT_PARTS: readonly string[] = ['text'];
/** A refusal part is the model's own earlier answer in words. */
const ASSISTANT_PARTS: readonly string[] = ['text', 'refusal'];
const MAX_NAMED_TYPE_CHARS = 64;

export interface ContentProblem {
  refusal: ProxyRefusal;
  /** For the audit row: which message and part, and the part's type. */
  detail: Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  const name = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return name.length <= MAX_NAMED_TYPE_CHARS ? name : `${name.slice(0, MAX_NAMED_TYPE_CHARS)}...`;
}

function invalid(message: string, messageIndex: number): ContentProblem {
  return { refusal: refusal(400, 'invalid_request', message), detail: { messageIndex } };
}

function notAllowed(messageIndex: number, partIndex: number | undefined, partType: string): ContentProblem {
  const where = partIndex === undefined ? `messages[${messageIndex}].${partType}` : `messages[${messageIndex}].content[${partIndex}]`;
  return {
    refusal: refusal(400, 'content_not_allowed', `${where} is ${partType} content: only text is passed to the model (no images, audio or files)`),
    detail: { messageIndex, partIndex: partIndex ?? null, partType },
  };
}

function checkPart(part: unknown, allowed: readonly string[], messageIndex: number, partIndex: number): ContentProblem | undefined {
  if (!isObject(part)) return invalid(`messages[${messageIndex}].content[${partIndex}] must be an object with a type`, messageIndex);
  const type = part.type;
  if (typeof type !== 'string' || !allowed.includes(type)) return notAllowed(messageIndex, partIndex, typeName(type));
  if (typeof part[type] !== 'string') return invalid(`messages[${messageIndex}].content[${partIndex}].${type} must be a string`, messageIndex);
  return undefined;
}

/** The first message whose content is not text only, or that is not a message at all. */
export function checkMessageContent(messages: readonly unknown[]): ContentProblem | undefined {
  for (const [i, message] of messages.entries()) {
    if (!isObject(message)) return invalid(`messages[${i}] must be an object`, i);
    if (message.audio !== undefined && message.audio !== null) return notAllowed(i, undefined, 'audio');
    const content = message.content;
    if (content === undefined || content === null || typeof content === 'string') continue;
    if (!Array.isArray(content)) return invalid(`messages[${i}].content must be a string or a list of text parts`, i);
    const allowed = message.role === 'assistant' ? ASSISTANT_PARTS : TEXT_PARTS;
    for (const [j, part] of content.entries()) {
      const problem = checkPart(part, allowed, i, j);
      if (problem) return problem;
    }
  }
  return undefined;
}
