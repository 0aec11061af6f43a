import type { ToolResponse } from '../../container/agent/protocol.js';
import type { OutboundFileKind } from '../../channels/channel.js';
import type { OutboxFile } from '../core/outbox.js';
import type { HostTool } from './host-tool.js';
import { ToolRefusal } from './host-tool.js';
import { safeFileName } from '../media/file-name.js';
import { sniffType } from '../media/sniff.js';
import { readMemoryFile } from './memory-file.js';

/** The longest caption: Telegram's limit for a caption, the smallest of the platforms. */
export const MAX_SEND_FILE_CAPTION_CHARS = 1024;

/** Puts a copy of the bytes in the host's outbox folder; returns its path. */
export type StageOutboxFile = (bytes: Buffer) => string;

/** Queues the staged file for the chat of the group's running turn (never another chat). */
export type SendFileToTurnChat = (group: string, turnId: string, file: OutboxFile, caption: string) => ToolResponse;

export interface SendFileDeps {
  /** media.sendMaxMb in bytes, read on every call. */
  maxBytes: () => number;
  stage: StageOutboxFile;
  send: SendFileToTurnChat;
}

/**
 * send_file: a file from the group's own memory folder to its own chat. The host reads it (no
 * symlink, contained, regular, capped: memory-file.ts), decides its type from the bytes, and copies
 * it into its own outbox folder at once, so what is delivered is what was checked.
 */
export function sendFileTool(deps: SendFileDeps): HostTool {
  return {
    name: 'send_file',
    perform({ group, turnId, args }) {
      const caption = args.caption ?? '';
      if (typeof caption !== 'string') throw new ToolRefusal('caption must be a string', 'invalid');
      if (caption.length > MAX_SEND_FILE_CAPTION_CHARS) {
        throw new ToolRefusal(`the caption has ${caption.length} characters, more than the ${MAX_SEND_FILE_CAPTION_CHARS} allowed; shorten it or send the text with send_message`, 'invalid', { chars: caption.length });
      }
      const file = readMemoryFile(group.memoryDir, args.path, deps.maxBytes());
      const type = sniffType(file.bytes);
      const mime = type.mime;
      const kind = kindOf(mime);
      // The agent chose the name: shown in the chat without controls or bidi tricks, its extension the real type's.
      const name = safeFileName(file.name, type, 'file');
      const sent = deps.send(group.name, turnId, { path: deps.stage(file.bytes), kind, name, mime }, caption);
      if (!sent.ok) throw new ToolRefusal(sent.error ?? 'the file was not sent', 'refused', { path: file.path });
      return { result: { ok: true, kind, mime, bytes: file.bytes.length }, audit: { path: file.path, kind, mime, bytes: file.bytes.length } };
    },
  };
}

const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

/** How the platforms show a file of this type: a photo, a voice note (Ogg Opus), audio, or a document. */
export function kindOf(mime: string): OutboundFileKind {
  if (PHOTO_TYPES.has(mime)) return 'image';
  if (mime === 'audio/ogg' || mime === 'audio/opus') return 'voice';
  if (mime.startsWith('audio/')) return 'audio';
  return 'document';
}
