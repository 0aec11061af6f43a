import type { ChannelStateStore } from '../../channels/channel.js';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from './database.js';

/** Durable key/value state of one channel adapter (e.g. Telegram's update offset). */
export function channelStateStore(db: Db, channel: string, clock: Clock = systemClock): ChannelStateStore {
  const read = db.prepare<[string, string], { value: string }>('SELECT value FROM channel_state WHERE channel = ? AND key = ?');
  const write = db.prepare(
    'INSERT INTO channel_state (channel, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (channel, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  );
  return {
    get: (key) => read.get(channel, key)?.value,
    set: (key, value) => void write.run(channel, key, value, clock()),
  };
}
