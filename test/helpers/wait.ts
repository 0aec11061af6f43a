/** Polls until the check passes; the bound only stops a broken test from hanging forever. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, boundMs = 60_000): Promise<T> {
  const until = Date.now() + boundMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
