import { refusal, type ProxyRefusal } from './refusal-errors.js';

/**
 * Only text goes upstream, plus the images the host itself built for the group's running turn.
 * Any other image, audio or file part is refused, for two reasons: the reservation estimates
 * tokens from the request's bytes, and a short image URL can cost thousands of tokens; and the
 * provider fetches URLs itself, so an agent without a network could send data out in one
 * (https://attacker/x.png?d=...). A host-built image is a data: URL the host registered with its
 * token price (src/media/turn-images.ts): the provider fetches nothing, and the price is known.
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

/** Whether an image URL is one the host built for this group's turn. */
export type HostImageCheck = (url: string) => boolean;

function checkImagePart(part: Record<string, unknown>, hostImage: HostImageCheck | undefined, messageIndex: number, partIndex: number): ContentProblem | undefined {
  const image = part.image_url;
  const url = isObject(image) ? image.url : undefined;
  const detail = isObject(image) ? image.detail : undefined;
  const detailOk = detail === undefined || detail === 'auto' || detail === 'low' || detail === 'high';
  if (typeof url === 'string' && detailOk && hostImage?.(url)) return undefined;
  return {
    refusal: refusal(400, 'content_not_allowed', `messages[${messageIndex}].content[${partIndex}] is an image the host did not attach to this turn: only the photos people sent reach the model`),
    detail: { messageIndex, partIndex, partType: 'image_url', remote: typeof url === 'string' && !url.startsWith('data:') },
  };
}

function checkPart(part: unknown, allowed: readonly string[], messageIndex: number, partIndex: number, hostImage?: HostImageCheck): ContentProblem | undefined {
  if (!isObject(part)) return invalid(`messages[${messageIndex}].content[${partIndex}] must be an object with a type`, messageIndex);
  const type = part.type;
  if (type === 'image_url' && allowed === TEXT_PARTS) return checkImagePart(part, hostImage, messageIndex, partIndex);
  if (typeof type !== 'string' || !allowed.includes(type)) return notAllowed(messageIndex, partIndex, typeName(type));
  if (typeof part[type] !== 'string') return invalid(`messages[${messageIndex}].content[${partIndex}].${type} must be a string`, messageIndex);
  return undefined;
}

/** The first message whose content is not text (or a host-built image in a user message), or that is not a message at all. */
export function checkMessageContent(messages: readonly unknown[], hostImage?: HostImageCheck): ContentProblem | undefined {
  for (const [i, message] of messages.entries()) {
    if (!isObject(message)) return invalid(`messages[${i}] must be an object`, i);
    if (message.audio !== undefined && message.audio !== null) return notAllowed(i, undefined, 'audio');
    const content = message.content;
    if (content === undefined || content === null || typeof content === 'string') continue;
    if (!Array.isArray(content)) return invalid(`messages[${i}].content must be a string or a list of text parts`, i);
    const allowed = message.role === 'assistant' ? ASSISTANT_PARTS : TEXT_PARTS;
    for (const [j, part] of content.entries()) {
      const problem = checkPart(part, allowed, i, j, message.role === 'user' ? hostImage : undefined);
      if (problem) return problem;
    }
  }
  return undefined;
}
