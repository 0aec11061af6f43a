import type { webApi } from '@slack/bolt';
import { z } from 'zod';
import type { DownloadLimits, InboundAttachment } from '../channel.js';
import { assertWithin, fetchCapped, kindFromMime, plainHttpHosts } from '../download.js';

/** Slack's own file host; a url_private anywhere else is never fetched. */
export const SLACK_FILE_HOST = 'files.slack.com';

/** The fields Enclave reads from a file of a `message` event (subtype file_share). */
export const slackFileSchema = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  mimetype: z.string().optional(),
  size: z.number().optional(),
  /** 'slack_audio' for a voice clip recorded in Slack. */
  subtype: z.string().optional(),
  duration_ms: z.number().optional(),
});
export type SlackFile = z.infer<typeof slackFileSchema>;

/** The files of a Slack message, described; platformRef is the file id (files.info finds its URL). */
export function slackAttachments(files: readonly SlackFile[] | undefined): InboundAttachment[] {
  return (files ?? []).map((f) => ({
    kind: f.subtype === 'slack_audio' ? 'voice' : kindFromMime(f.mimetype),
    ...(f.mimetype !== undefined && { mime: f.mimetype }),
    ...(f.size !== undefined && { bytes: f.size }),
    ...(f.duration_ms !== undefined && { durationSeconds: f.duration_ms / 1000 }),
    ...(f.name !== undefined && { name: f.name }),
    platformRef: f.id,
  }));
}

/** files.info for the file's private URL, then the file with the bot token, only from Slack's file host (or the configured API host). */
export async function downloadSlackFile(web: webApi.WebClient, apiUrl: string, botToken: string, attachment: InboundAttachment, limits: DownloadLimits): Promise<Buffer> {
  assertWithin(attachment.bytes, limits.maxBytes);
  const { file } = await web.files.info({ file: attachment.platformRef });
  assertWithin(file?.size, limits.maxBytes);
  const url = file?.url_private_download ?? file?.url_private;
  if (!url) throw new Error('Slack gave no download URL for the file');
  return fetchCapped(url, { ...limits, allowedHosts: [SLACK_FILE_HOST, new URL(apiUrl).host], httpHosts: plainHttpHosts(apiUrl), headers: { authorization: `Bearer ${botToken}` } });
}
