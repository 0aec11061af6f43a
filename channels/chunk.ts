/**
 * Splits text into pieces of at most `limit` characters, preferring paragraph, then line, then
 * word boundaries, and avoiding cuts inside a ``` code block when a boundary outside one exists.
 */
export function splitMessage(text: string, limit: number): string[] {
  if (limit < 1) throw new Error('limit must be positive');
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const [end, next] = bestCut(rest, limit);
    chunks.push(rest.slice(0, end));
    rest = rest.slice(next);
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks;
}

const SEPARATORS = ['\n\n', '\n', ' '];

/** [end of this chunk, start of the next]: the separator itself is dropped. */
function bestCut(text: string, limit: number): [number, number] {
  const floor = Math.floor(limit / 3);
  for (const outsideCode of [true, false]) {
    for (const sep of SEPARATORS) {
      let at = text.lastIndexOf(sep, limit);
      while (at > floor) {
        if (!outsideCode || !insideCodeBlock(text, at)) return [at, at + sep.length];
        at = text.lastIndexOf(sep, at - 1);
      }
    }
  }
  return [limit, limit];
}

function insideCodeBlock(text: string, index: number): boolean {
  const fences = text.slice(0, index).match(/```/g);
  return (fences?.length ?? 0) % 2 === 1;
}
