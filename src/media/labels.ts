/*
 * What the agent and the chat read about a received file. Everything from the sender (names,
 * file names, transcripts) is quoted as data, on lines of its own, so it reads as what someone
 * sent, not as an instruction from the host.
 */

/**
 * Sender text for inside a `"""` quote: every run of three or more double quotes is written as
 * `\"\"\"`, so a transcript or document can never close the quote and follow it with a line
 * that imitates a host label.
 */
export function quoted(text: string): string {
  return `"""\n${text.replace(/"{3,}/g, (run) => run.replace(/"/g, '\\"'))}\n"""`;
}

export function cleanName(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}[\]]/gu, ' ').replace(/\s+/g, ' ').trim().slice(0, 80) || 'someone';
}

/** 42 -> "0:42", 3725 -> "62:05". */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

export type KindWord = 'photo' | 'voice note' | 'audio file' | 'video' | 'document' | 'file' | 'sticker';

export function kindWord(kind: string): KindWord {
  switch (kind) {
    case 'image':
      return 'photo';
    case 'voice':
      return 'voice note';
    case 'audio':
      return 'audio file';
    case 'video':
    case 'sticker':
    case 'document':
      return kind;
    default:
      return 'file';
  }
}

export const labels = {
  imageShown: (sender: string, path: string) => `[Photo from ${sender}, shown below; the file is at ${path}]`,
  imageNotShown: (sender: string, path: string) =>
    `[Photo from ${sender} at ${path}. The current model cannot see images: say so if the photo matters, or work with the file.]`,
  imageTooMany: (sender: string, path: string) => `[Photo from ${sender} at ${path}; not shown, this turn already has the most images one turn may carry.]`,
  imageUnreadable: (sender: string) => `[${sender} sent an image that could not be decoded; it was not kept, so it is not in the inbox.]`,
  transcript: (sender: string, seconds: number | undefined, path: string, text: string) =>
    `[Transcript of a voice note from ${sender}${seconds === undefined ? '' : ` (${formatDuration(seconds)})`}, made by speech-to-text; the audio is at ${path}]\n${quoted(text)}`,
  notTranscribed: (word: KindWord, sender: string, path: string, why: string) => `[A ${word} from ${sender} at ${path}; it was not transcribed: ${why}.]`,
  documentText: (sender: string, name: string, path: string, text: string, notice: string | undefined) =>
    `[Document ${JSON.stringify(name)} from ${sender}; the original is at ${path}. Its text${notice ? ` (${notice})` : ''}:]\n${quoted(text)}`,
  documentNoText: (sender: string, name: string, path: string, notice: string) => `[Document ${JSON.stringify(name)} from ${sender} at ${path}; ${notice}.]`,
  staged: (word: KindWord, sender: string, path: string, mime: string) => `[A ${word} from ${sender} at ${path} (${mime}); not read by the host, open it if needed.]`,
  missing: (word: KindWord, sender: string, why: string) => `[${sender} sent a ${word} that is not available: ${why}.]`,
};

/** One sentence for the chat when a file could not be taken in; the message's text still goes through. */
export const chatNotices = {
  tooLarge: (word: KindWord, limit: string) => `The ${word} you sent is larger than ${limit}, so I could not take it in; the rest of your message went through.`,
  tooLong: (word: KindWord, limit: string) => `The ${word} you sent is longer than ${limit}, so it was not transcribed; the rest of your message went through.`,
  failed: (word: KindWord) => `I could not download the ${word} you sent; please send it again.`,
  timedOut: (word: KindWord) => `Downloading the ${word} you sent took too long, so I left it out; please send it again.`,
  unsupported: (word: KindWord, channel: string) => `I cannot fetch files sent on ${channel}, so the ${word} was left out.`,
  pdfUnreadable: (why: string) => `That PDF could not be read (${why}), so I only have the file, not its text; the rest of your message went through.`,
  imageUnreadable: () => 'The photo you sent could not be decoded, so I did not keep it; please send it again as a regular photo.',
  empty: (word: KindWord) => `The ${word} you sent was empty.`,
  turnFull: (max: number) => `I take in at most ${max} files at a time, so some of the files you sent were left out; please send them again after my answer.`,
  tooMany: (max: number) => `Only the first ${max} files of your message were taken in.`,
};
