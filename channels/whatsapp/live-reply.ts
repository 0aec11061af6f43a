import type { LiveReplyDisplay, LiveReplyOptions } from '../channel.js';
import { BlockDisplay } from '../live/block-display.js';
import type { LivePort } from '../live/live-port.js';

/**
 * WhatsApp shows an answer as complete blocks, each a message of its own: edits through Baileys
 * are not reliable enough to build on, so edit mode is shown as blocks too.
 */
export function startWhatsAppLiveReply(post: (text: string) => Promise<string>, options: LiveReplyOptions): LiveReplyDisplay {
  const port: LivePort = {
    maxMessageLength: 4000,
    post,
    edit: () => Promise.reject(new Error('WhatsApp live replies are never edited')),
  };
  return new BlockDisplay(port, { ...options, mode: 'blocks' });
}
