/**
 * The agent writes plain text with a little Markdown. Telegram's HTML parse mode is the one
 * whose escaping is simple (& < > only), so the common Markdown is turned into its tags and
 * everything else is escaped: ``` fences, `code`, **bold**, ~~strike~~, [text](https://...)
 * links and # headings (bold line).
 */
export function markdownToTelegramHtml(text: string): string {
  const out: string[] = [];
  const fence = /```([^\n`]*)\n?([\s\S]*?)```/g;
  let last = 0;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    out.push(inline(text.slice(last, m.index)));
    out.push(codeBlock(m[1]!.trim(), m[2]!));
    last = fence.lastIndex;
  }
  out.push(inline(text.slice(last)));
  return out.join('');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function codeBlock(language: string, code: string): string {
  const body = escapeHtml(code.replace(/\n$/, ''));
  const lang = /^[\w+#-]+$/.test(language) ? ` class="language-${language}"` : '';
  return `<pre><code${lang}>${body}</code></pre>`;
}

function inline(text: string): string {
  const out: string[] = [];
  const code = /`([^`\n]+)`/g;
  let last = 0;
  for (let m = code.exec(text); m; m = code.exec(text)) {
    out.push(styled(text.slice(last, m.index)));
    out.push(`<code>${escapeHtml(m[1]!)}</code>`);
    last = code.lastIndex;
  }
  out.push(styled(text.slice(last)));
  return out.join('');
}

/** Escapes first: the Markdown markers used here survive escaping unchanged. */
function styled(text: string): string {
  return escapeHtml(text)
    .replace(/^#{1,6}[ \t]+(.+)$/gm, '<b>$1</b>')
    .replace(/\*\*(?=\S)([^\n]*?\S)\*\*/g, '<b>$1</b>')
    .replace(/~~(?=\S)([^\n]*?\S)~~/g, '<s>$1</s>')
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s()]+)\)/g, '<a href="$2">$1</a>');
}
