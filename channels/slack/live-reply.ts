import type { webApi } from '@slack/bolt';
import type { LiveReplyDisplay, LiveReplyOptions, LiveTarget } from '../channel.js';
import { BlockDisplay } from '../live/block-display.js';
import { EditDisplay } from '../live/edit-display.js';
import type { LivePort } from '../live/live-port.js';
import { plainToSlack } from './mrkdwn.js';
import { classifySendError } from './slack-errors.js';

export async function updateSlackMessage(web: webApi.WebClient, chatId: string, ts: string, text: string): Promise<void> {
  try {
    await web.chat.update({ channel: chatId, ts, text: plainToSlack(text) });
  } catch (err) {
    throw classifySendError(err, chatId);
  }
}

/** chat.postMessage (in the answer's thread) and chat.update of that message's ts. */
class SlackLivePort implements LivePort {
  constructor(
    private readonly web: webApi.WebClient,
    private readonly target: LiveTarget,
    private readonly thread: string | undefined,
    readonly maxMessageLength: number,
  ) {}

  async post(text: string): Promise<string> {
    try {
      const sent = await this.web.chat.postMessage({ channel: this.target.chatId, text: plainToSlack(text), ...(this.thread && { thread_ts: this.thread }) });
      if (!sent.ts) throw new Error('Slack did not say which message it posted');
      return sent.ts;
    } catch (err) {
      throw classifySendError(err, this.target.chatId);
    }
  }

  edit(messageId: string, text: string): Promise<void> {
    return updateSlackMessage(this.web, this.target.chatId, messageId, text);
  }
}

export function startSlackLiveReply(web: webApi.WebClient, target: LiveTarget, thread: string | undefined, maxMessageLength: number, options: LiveReplyOptions): LiveReplyDisplay {
  const port = new SlackLivePort(web, target, thread, maxMessageLength);
  return options.mode === 'blocks' ? new BlockDisplay(port, options) : new EditDisplay(port, options);
}
