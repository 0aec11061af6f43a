/**
 * Splits text into pieces of at most `limit` characters, preferring paragraph, then line, then
 * word boundaries, and avoiding cuts inside a ``` code block when a boundary outside one exists.
 */
export function splitMessage(text: string, limit: number): string[] {
  if (limit < 1) throw new Error('limit must be positive');
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const cut = bestCut(rest, limit);
    chunks.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^\n+/, '');
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks.filter((c, i) => c.length > 0 || i === 0);
}

function bestCut(text: string, limit: number): number {
  const window = text.slice(0, limit);
  const floor = Math.floor(limit / 3);
  for (const sep of ['\n\n', '\n', ' ']) {
    let at = window.lastIndexOf(sep);
    while (at > floor) {
      if (!insideCodeBlock(window, at)) return at + sep.length;
      at = window.lastIndexOf(sep, at - 1);
    }
  }
  for (const sep of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(sep);
    if (at > floor) return at + sep.length;
  }
  return limit;
}

function insideCodeBlock(text: string, index: number): boolean {
  const fences = text.slice(0, index).match(/```/g);
  return (fences?.length ?? 0) % 2 === 1;
}
