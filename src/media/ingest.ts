import type { Channel, InboundAttachment } from '../../channels/channel.js';
import type { GroupConfig } from '../config/groups.js';
import type { MediaConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Transcriber } from '../proxy/transcription-call.js';
import { audioSeconds, audioSecondsBound } from './audio-duration.js';
import { documentText } from './document-text.js';
import { downloadAttachment, type DownloadResult } from './download.js';
import { safeFileName } from './file-name.js';
import { agentInboxPath, inboxDirOf } from './inbox-dir.js';
import { dataUrl, prepareImage } from './image.js';
import { chatNotices, cleanName, formatDuration, kindWord, labels, type KindWord } from './labels.js';
import { familyOfKind, familyOfType, formatMb, MAX_ATTACHMENTS_PER_MESSAGE, maxBytesFor } from './limits.js';
import { sniffType } from './sniff.js';
import { makeInboxRoom, pruneInbox, stageFile } from './stage.js';

/** Images one turn sends to the model; more are staged and named, not shown (a request has a size cap). */
export const MAX_IMAGES_PER_TURN = 4;

export interface MediaDeps {
  media: () => MediaConfig;
  channels: ReadonlyMap<string, Channel>;
  transcribe: Transcriber;
  log: Logger;
  /** A signal that fires after ms (the time bound of all of a turn's files); injectable so tests end it themselves. */
  timeout?: (ms: number) => AbortSignal;
}

export interface MessageMedia {
  id: number;
  channel: string;
  senderName: string;
  attachments: readonly InboundAttachment[];
}

export interface IngestedMedia {
  /** Lines for the agent, one block per file, after the message's own text. */
  text: string[];
  /** Images for a vision model: the data: URL and the prompt tokens it reserves. */
  images: { url: string }[];
  /** One sentence each for the chat (too large, failed download…). */
  notices: string[];
  /** Files of the message that were taken in (counted against media.maxFilesPerTurn). */
  files?: number;
}

/**
 * The one deadline of a turn's files: every download, reading and transcription of the turn shares
 * it, so ten files in each of several queued messages cannot hold the turn for ten times as long.
 */
export function turnMediaSignal(deps: MediaDeps, turnSignal: AbortSignal): AbortSignal {
  const timeout = (deps.timeout ?? ((ms) => AbortSignal.timeout(ms)))(deps.media().timeoutSeconds * 1000);
  return AbortSignal.any([turnSignal, timeout]);
}

interface FileContext {
  deps: MediaDeps;
  group: GroupConfig;
  message: MessageMedia;
  sender: string;
  vision: boolean;
  out: IngestedMedia;
  signal: AbortSignal;
}

const FALLBACK_NAMES: Record<KindWord, string> = {
  photo: 'photo', 'voice note': 'voice-note', 'audio file': 'audio', video: 'video', document: 'document', file: 'file', sticker: 'sticker',
};

/**
 * Takes in the files of one message whose turn is running (it passed admission and the trigger):
 * each is downloaded within its kind's limits, sniffed, turned into what the agent reads, and staged
 * read-only in the group's inbox, all within `signal` (the turn's deadline, from turnMediaSignal) and
 * media.maxFilesPerTurn (`filesSoFar` were taken from earlier messages of the turn). Never throws: a
 * file that fails becomes a notice.
 */
export async function ingestMessageMedia(deps: MediaDeps, group: GroupConfig, message: MessageMedia, vision: boolean, signal: AbortSignal, shownSoFar = 0, filesSoFar = 0): Promise<IngestedMedia> {
  const out: IngestedMedia = { text: [], images: [], notices: [], files: 0 };
  const ctx: FileContext = { deps, group, message, sender: cleanName(message.senderName), vision, out, signal };
  const turnRoom = Math.max(0, deps.media().maxFilesPerTurn - filesSoFar);
  const files = message.attachments.slice(0, Math.min(MAX_ATTACHMENTS_PER_MESSAGE, turnRoom));
  out.files = files.length;
  if (message.attachments.length > files.length) {
    out.notices.push(turnRoom < MAX_ATTACHMENTS_PER_MESSAGE ? chatNotices.turnFull(deps.media().maxFilesPerTurn) : chatNotices.tooMany(MAX_ATTACHMENTS_PER_MESSAGE));
  }
  for (const attachment of files) {
    try {
      await ingestOne(ctx, attachment, shownSoFar + out.images.length);
    } catch (err) {
      deps.log.warn({ group: group.name, message: message.id, err: (err as Error).message }, 'a received file could not be taken in');
      const word = kindWord(attachment.kind);
      out.text.push(labels.missing(word, ctx.sender, 'the host could not process it'));
      out.notices.push(chatNotices.failed(word));
    }
  }
  pruneInbox(inboxDirOf(group));
  return out;
}

function downloadProblem(ctx: FileContext, word: KindWord, result: Exclude<DownloadResult, { ok: true }>, maxBytes: number): void {
  const { out, sender, message } = ctx;
  const why = {
    too_large: [`larger than ${formatMb(maxBytes)}`, chatNotices.tooLarge(word, formatMb(maxBytes))],
    unsupported: [`files cannot be fetched from ${message.channel}`, chatNotices.unsupported(word, message.channel)],
    aborted: ['the download took too long', chatNotices.timedOut(word)],
    failed: ['the download failed', chatNotices.failed(word)],
    empty: ['the file was empty', chatNotices.empty(word)],
  }[result.reason];
  out.text.push(labels.missing(word, sender, why[0]));
  out.notices.push(why[1]);
}

async function ingestOne(ctx: FileContext, attachment: InboundAttachment, shown: number): Promise<void> {
  const { deps, group, message, out, sender } = ctx;
  const media = deps.media();
  const word = kindWord(attachment.kind);
  const claimedMax = maxBytesFor(familyOfKind(attachment.kind), media);
  const channel = deps.channels.get(message.channel);
  const signal = ctx.signal;
  const downloaded: DownloadResult = channel
    ? await downloadAttachment(channel, attachment, { maxBytes: claimedMax, signal })
    : { ok: false, reason: 'unsupported' };
  if (!downloaded.ok) {
    if (downloaded.error) deps.log.warn({ group: group.name, message: message.id, err: downloaded.error }, 'attachment download failed');
    return downloadProblem(ctx, word, downloaded, claimedMax);
  }
  const data = downloaded.data;
  const type = sniffType(data);
  // The real type's limit counts too: a "document" that is really a photo gets the photo limit.
  const realMax = maxBytesFor(familyOfType(type.category), media);
  if (data.length > realMax) return downloadProblem(ctx, word, { ok: false, reason: 'too_large' }, realMax);
  const inbox = inboxDirOf(group);
  const inboxMax = Math.floor(media.inboxMaxMb * 1024 * 1024);
  if (!makeInboxRoom(inbox, message.id, data.length, inboxMax)) {
    out.text.push(labels.missing(word, sender, `it is larger than the inbox may hold (${formatMb(inboxMax)})`));
    out.notices.push(chatNotices.tooLarge(word, formatMb(inboxMax)));
    return;
  }
  const stage = (bytes: Buffer, mime = type) => {
    makeInboxRoom(inbox, message.id, bytes.length, inboxMax);
    return agentInboxPath(stageFile(inbox, message.id, safeFileName(attachment.name, mime, FALLBACK_NAMES[word]), bytes));
  };

  if (type.category === 'image') {
    let prepared;
    try {
      prepared = await prepareImage(data, media.maxEdgePx);
    } catch (err) {
      // Not staged: only a decoded image can be written without its EXIF (GPS, camera) metadata.
      deps.log.info({ group: group.name, message: message.id, mime: type.mime, err: (err as Error).message }, 'an image could not be decoded');
      out.text.push(labels.imageUnreadable(sender));
      out.notices.push(chatNotices.imageUnreadable());
      return;
    }
    const path = stage(prepared.jpeg, sniffType(prepared.jpeg));
    if (!ctx.vision) return void out.text.push(labels.imageNotShown(sender, path));
    if (shown >= MAX_IMAGES_PER_TURN) return void out.text.push(labels.imageTooMany(sender, path));
    out.images.push({ url: dataUrl('image/jpeg', prepared.jpeg) });
    out.text.push(labels.imageShown(sender, path));
    return;
  }

  if (type.category === 'audio' && (attachment.kind === 'voice' || attachment.kind === 'audio' || attachment.kind === 'document')) {
    const path = stage(data);
    const measured = audioSeconds(data, type.mime);
    const seconds = measured ?? attachment.durationSeconds;
    // Refused before anything is sent when even the bound that cannot be lied about is too long.
    const bound = audioSecondsBound(data, type.mime, attachment.durationSeconds);
    if (bound > media.audioMaxSeconds) {
      out.text.push(labels.notTranscribed(word, sender, path, `it ${measured === undefined ? 'may be' : 'is'} longer than ${formatDuration(media.audioMaxSeconds)}`));
      out.notices.push(chatNotices.tooLong(word, formatDuration(media.audioMaxSeconds)));
      return;
    }
    const result = await deps.transcribe({
      group, audio: data, mime: type.mime, fileName: safeFileName(attachment.name, type, 'voice-note'), maxSeconds: Math.ceil(bound), knownSeconds: seconds, signal,
    });
    if (result.ok) out.text.push(labels.transcript(sender, result.seconds ?? seconds, path, result.text));
    else out.text.push(labels.notTranscribed(word, sender, path, result.message));
    return;
  }

  if (type.category === 'text' || type.category === 'pdf') {
    const name = safeFileName(attachment.name, type, 'document');
    const path = stage(data);
    const read = await documentText(data, type, { maxChars: media.documentMaxChars, maxPages: media.documentMaxPages, timeoutMs: media.timeoutSeconds * 1000, signal });
    if (read && read.text !== '') out.text.push(labels.documentText(sender, name, path, read.text, read.notice));
    else out.text.push(labels.documentNoText(sender, name, path, read?.notice ?? 'its text could not be read'));
    if (read?.unreadable) out.notices.push(chatNotices.pdfUnreadable(read.unreadable));
    return;
  }

  out.text.push(labels.staged(word, sender, stage(data), type.mime));
}
