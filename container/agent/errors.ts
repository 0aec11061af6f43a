/** What an HTTP status means for people, with no number in it. */
export function statusSentence(status: number): string {
  if (status === 401 || status === 403) return 'the model service refused the request';
  if (status === 402) return 'the budget for model calls is used up';
  if (status === 404) return 'the model service does not know this model';
  if (status === 408 || status === 504) return 'the model service took too long to answer';
  if (status === 413) return 'the conversation is too long for the model service';
  if (status === 429) return 'the model service is busy (too many requests); try again in a minute';
  if (status >= 500) return 'the model service is not working right now; try again later';
  return 'the model service could not take the request';
}

/** The openai SDK's error for an HTTP answer: its message starts with the status code. */
interface HttpAnswerError {
  status: number;
  error?: { message?: unknown };
}

function isHttpAnswerError(err: unknown): err is HttpAnswerError {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number';
}

/**
 * For a reply people read: an HTTP answer's own sentence (the host's proxy writes one for people)
 * without the status code the SDK puts in front, or a sentence for the status when it has none.
 */
export function errorMessage(err: unknown): string {
  if (isHttpAnswerError(err)) {
    const said = err.error?.message;
    return typeof said === 'string' && said.trim() !== '' ? said : statusSentence(err.status);
  }
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
