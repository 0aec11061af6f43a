import { MessageFlags, Routes, type Message, type REST } from 'discord.js';
import type { DownloadLimits, InboundAttachment, OutboundFile } from '../channel.js';
import { assertWithin, fetchCapped, kindFromMime, plainHttpHosts } from '../download.js';
import { channelMessageBody } from './outbound.js';

/** Discord's own file hosts; attachment URLs elsewhere are never fetched. */
export const DISCORD_FILE_HOSTS = ['cdn.discordapp.com', 'media.discordapp.net'];

/** The files of a Discord message, described: its attachments (a voice message as 'voice') and its stickers. */
export function discordAttachments(message: Message): InboundAttachment[] {
  const voice = message.flags.has(MessageFlags.IsVoiceMessage);
  const files = message.attachments.map(
    (a): InboundAttachment => ({
      kind: voice ? 'voice' : kindFromMime(a.contentType),
      ...(a.contentType !== null && { mime: a.contentType }),
      bytes: a.size,
      ...(a.duration !== null && { durationSeconds: a.duration }),
      name: a.name,
      platformRef: a.url,
    }),
  );
  const stickers = message.stickers.map((s): InboundAttachment => ({ kind: 'sticker', name: s.name, platformRef: s.url }));
  return [...files, ...stickers];
}

/** From Discord's CDN (or the host of the configured apiBase, for a proxy or the tests' fake), capped. */
export async function downloadDiscordFile(apiBase: string, attachment: InboundAttachment, limits: DownloadLimits): Promise<Buffer> {
  assertWithin(attachment.bytes, limits.maxBytes);
  return fetchCapped(attachment.platformRef, { ...limits, allowedHosts: [...DISCORD_FILE_HOSTS, new URL(apiBase).host], httpHosts: plainHttpHosts(apiBase) });
}

/** One message with the file attached and the caption as its text; mentions in the caption never ping. */
export async function postDiscordFile(rest: REST, file: OutboundFile): Promise<void> {
  const body = { ...channelMessageBody(file.caption ?? '', file.replyTo), attachments: [{ id: 0, filename: file.name }] };
  await rest.post(Routes.channelMessages(file.chatId), { body, files: [{ name: file.name, data: file.data, contentType: file.mime }] });
}
