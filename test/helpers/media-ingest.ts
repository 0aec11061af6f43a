import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Channel, InboundAttachment } from '../../channels/channel.js';
import { mediaSchema, type MediaConfig } from '../../src/config/schema.js';
import type { GroupConfig } from '../../src/config/groups.js';
import { silentLogger } from '../../src/logger.js';
import type { MediaDeps } from '../../src/media/ingest.js';
import type { Transcriber } from '../../src/proxy/transcription-call.js';
import { testGroup } from './group-config.js';

/** A channel named "test" whose downloads the test serves. */
export function channelServing(fetch: NonNullable<Channel['downloadAttachment']>): Channel {
  return {
    name: 'test', maxMessageLength: 100, connect: async () => undefined, disconnect: async () => undefined, send: async () => undefined,
    setTyping: async () => undefined, health: () => ({ connected: true, reconnects: 0 }), downloadAttachment: fetch,
  };
}

/** A group in a fresh temporary folder, so its inbox is real. */
export function tempGroup(name = 'g'): GroupConfig {
  const dir = mkdtempSync(join(tmpdir(), 'enclave-media-'));
  return testGroup({ name, dir, memoryDir: join(dir, 'memory') });
}

export function mediaDeps(fetch: NonNullable<Channel['downloadAttachment']>, over: Partial<MediaConfig> = {}, extra: Partial<MediaDeps> = {}): MediaDeps {
  const transcribe: Transcriber = async () => ({ ok: false, reason: 'not_configured', message: 'no speech-to-text in this test' });
  return {
    media: () => mediaSchema.parse(over),
    channels: new Map([['test', channelServing(fetch)]]),
    transcribe,
    log: silentLogger(),
    ...extra,
  };
}

export const message = (id: number, ...attachments: InboundAttachment[]) => ({ id, channel: 'test', senderName: 'Ann', attachments });
