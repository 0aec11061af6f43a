/**
 * The platform id Enclave stores for a Slack message, and how send() reads it back.
 * The host answers with replyTo = the platform id of the message it answers, so the id
 * carries the thread: "<thread_ts>/<ts>" inside a thread, "<ts>" at the top level,
 * "cmd:<trigger_id>" for a slash command. Both the message and the app_mention event of one
 * message yield the same id, and so does every redelivery.
 */

const TS = /^\d+\.\d+$/;

export function messageRef(ts: string, threadTs: string | undefined): string {
  return threadTs && threadTs !== ts ? `${threadTs}/${ts}` : ts;
}

export function commandRef(triggerId: string): string {
  return `cmd:${triggerId}`;
}

/** A Slack message timestamp (ts, thread_ts): "1726133698.626339". */
export function isSlackTs(text: string): boolean {
  return TS.test(text);
}

/** The thread_ts an answer to `replyTo` goes in, or undefined for the channel itself. */
export function answerThread(replyTo: string | undefined, replyInThread: boolean): string | undefined {
  if (!replyTo) return undefined;
  const [head, tail] = replyTo.split('/');
  if (tail !== undefined) return TS.test(head!) && TS.test(tail) ? head : undefined;
  return replyInThread && TS.test(replyTo) ? replyTo : undefined;
}
