import type { webApi } from '@slack/bolt';
import type { Logger } from '../../src/logger.js';
import { describeSlackError } from './slack-errors.js';

const MAX_ENTRIES = 5000;

/**
 * People's and channels' display names, looked up once each (users:read, channels:read and
 * groups:read scopes). A failed lookup is remembered too, so a missing scope costs one call,
 * and the message goes on with the raw id.
 */
export class SlackDirectory {
  private readonly users = new Map<string, Promise<string>>();
  private readonly chats = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly web: webApi.WebClient,
    private readonly log: Logger,
  ) {}

  userName(userId: string): Promise<string> {
    return cached(this.users, userId, async () => {
      try {
        const { user } = await this.web.users.info({ user: userId });
        return user?.profile?.display_name || user?.real_name || user?.name || userId;
      } catch (err) {
        this.log.debug({ user: userId, reason: describeSlackError(err) }, 'Slack user name lookup failed');
        return userId;
      }
    });
  }

  chatTitle(channelId: string): Promise<string | undefined> {
    return cached(this.chats, channelId, async () => {
      try {
        const { channel } = await this.web.conversations.info({ channel: channelId });
        return channel?.name || undefined;
      } catch (err) {
        this.log.debug({ chat: channelId, reason: describeSlackError(err) }, 'Slack channel name lookup failed');
        return undefined;
      }
    });
  }
}

function cached<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  const hit = map.get(key);
  if (hit) return hit;
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
  const value = load();
  map.set(key, value);
  return value;
}
