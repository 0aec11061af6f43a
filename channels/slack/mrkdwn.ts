/**
 * Slack's text format both ways. Inbound, Slack writes mentions, channels and links as
 * <...> control sequences and escapes & < > as entities; outbound, the same three characters
 * must be escaped or Slack reads them as control sequences (an agent could otherwise ping
 * <!channel>). User mentions <@U...> survive both ways so the agent can address people.
 */

const CONTROL = /<([^<>]*)>/g;

/** Slack message text -> what the host and the agent read; the bot's own mention is removed. */
export function slackToPlain(text: string, botUserId: string): string {
  const withoutBot = text.replace(new RegExp(`<@${botUserId.replace(/\W/g, '')}(?:\\|[^>]*)?>[ \\t]?`, 'g'), '');
  return unescapeEntities(withoutBot.replace(CONTROL, (_whole, inner: string) => controlToPlain(inner))).trim();
}

/** User ids mentioned in Slack message text, in order, without repeats. */
export function mentionedUsers(text: string): string[] {
  const ids = [...text.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g)].map((m) => m[1]!);
  return [...new Set(ids)];
}

function controlToPlain(inner: string): string {
  const [target = '', label] = splitLabel(inner);
  if (target.startsWith('@')) return `<${target}>`;
  if (target.startsWith('#')) return `#${label ?? target.slice(1)}`;
  if (target.startsWith('!')) {
    const special = target.slice(1);
    if (['here', 'channel', 'everyone'].includes(special)) return `@${special}`;
    return label ?? `@${special.split('^')[0]}`;
  }
  if (label === undefined || label === target || `mailto:${label}` === target) return label ?? target;
  return `${label} (${target})`;
}

function splitLabel(inner: string): [string, string | undefined] {
  const bar = inner.indexOf('|');
  return bar < 0 ? [inner, undefined] : [inner.slice(0, bar), inner.slice(bar + 1)];
}

function unescapeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The assistant's Markdown -> Slack mrkdwn, with & < > escaped everywhere. */
export function plainToSlack(text: string): string {
  return text
    .split(/(```[\s\S]*?```)/)
    .map((part, i) => (i % 2 === 1 ? escapeEntities(part) : markdownToMrkdwn(escapeEntities(part))))
    .join('');
}

function escapeEntities(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Works on escaped text, so the only < > it adds are the ones it means. */
function markdownToMrkdwn(text: string): string {
  return text
    .replace(/&lt;@([UW][A-Z0-9]+)&gt;/g, '<@$1>')
    .replace(/\[([^\]\n|]+)\]\((https?:\/\/[^\s)]+)\)/g, '<$2|$1>')
    .replace(/\*\*(?=\S)([^*\n]+?)\*\*/g, '*$1*')
    .replace(/~~(?=\S)([^~\n]+?)~~/g, '~$1~')
    .replace(/^#{1,6}[ \t]+(.+?)[ \t]*#*$/gm, '*$1*');
}
