import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../helpers/wait.js';
import { FakeDiscordGateway } from './fake-discord-gateway.js';
import { multipartParts, serveBytes, type FileServing } from './file-serving.js';

export interface FakeDiscordUser {
  id: string;
  username: string;
  global_name?: string | null;
  bot?: boolean;
}

/** One REST call the bot made; path is without `/api/v10`. */
export interface DiscordRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown> | undefined;
  authorization: string | undefined;
}

export interface ScriptedFailure {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeDiscordOptions {
  /** The bot token the fake accepts on REST and the gateway. */
  token?: string;
  /** Gateway heartbeat interval; keep it small in tests that check heartbeats. */
  heartbeatIntervalMs?: number;
}

export interface UserMessageSpec {
  content: string;
  author?: FakeDiscordUser;
  /** Guild text channel (default: the guild's #general); ignored for DMs. */
  channelId?: string;
  /** A direct message from `author` (channel_type 1, no guild). */
  dm?: boolean;
  /** Id of the message this one replies to (a message the fake dispatched or the bot sent). */
  replyTo?: string;
  /** Role ids mentioned as <@&id>. */
  mentionRoles?: string[];
  /** Files attached, served by the fake at their attachment URL. */
  attachments?: AttachmentSpec[];
  /** A voice message (flag IS_VOICE_MESSAGE): one audio attachment with a duration. */
  voice?: boolean;
}

export interface AttachmentSpec {
  name: string;
  contentType?: string;
  data: Buffer;
  /** The size the message states (default: the real one). */
  statedSize?: number;
  serving?: FileServing;
  durationSecs?: number;
}

/** A file the bot posted with a message (multipart). */
export interface DiscordUpload {
  channelId: string;
  name: string;
  contentType?: string;
  data: Buffer;
  /** The message's JSON part (content, message_reference, attachments). */
  body: Record<string, unknown>;
}

export interface SlashCommandSpec {
  name: string;
  /** String options, e.g. { text: 'hello' } for /ask. */
  options?: Record<string, string>;
  user?: FakeDiscordUser;
  channelId?: string;
  dm?: boolean;
}

const API_PREFIX = '/api/v10';
const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A Discord snowflake for now, so discord.js computes current timestamps from ids. */
export function snowflake(): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | increment).toString();
}

/**
 * Discord on 127.0.0.1 for discord.js: REST under `apiBase` (pass it as `rest.api`) and the gateway
 * that `GET /gateway/bot` points to. One guild ("Test Guild", text channel #general), a bot user
 * with its managed role, and one human user. Records every REST call the bot makes.
 */
export class FakeDiscord {
  readonly bot: FakeDiscordUser = { id: snowflake(), username: 'enclave', global_name: null, bot: true };
  readonly applicationId = this.bot.id;
  readonly human: FakeDiscordUser = { id: snowflake(), username: 'alice', global_name: 'Alice' };
  readonly guild = { id: snowflake(), name: 'Test Guild', channelId: snowflake(), channelName: 'general', botRoleId: snowflake() };
  /** Files the bot posted, in order. */
  readonly uploads: DiscordUpload[] = [];
  /** Attachment paths downloaded from the fake's file host. */
  readonly fileRequests: string[] = [];
  private readonly files = new Map<string, { data: Buffer; serving: FileServing }>();
  /** Every REST call, in order. */
  readonly requests: DiscordRequest[] = [];
  readonly gateway: FakeDiscordGateway;
  /** The token the fake accepts; change it to make REST answer 401 and IDENTIFY close with 4004. */
  token: string;
  /** Pass as `rest.api` (the `apiBase` config key): http://127.0.0.1:P/api */
  apiBase = '';
  gatewayUrl = '';
  private server: Server | undefined;
  private readonly failures: { method: string; path: RegExp; reply: ScriptedFailure }[] = [];
  private readonly messages = new Map<string, Record<string, unknown>>();
  /** Every edit of a bot message (PATCH /channels/:id/messages/:id), in order. */
  readonly edits: { messageId: string; content: string }[] = [];

  /** A message's content as it reads now. */
  contentOf(messageId: string): string | undefined {
    const content = this.messages.get(messageId)?.content;
    return typeof content === 'string' ? content : undefined;
  }
  private readonly dmChannels = new Map<string, string>();
  private readonly interactions = new Map<string, { token: string; channelId: string; guildId?: string; expired: boolean }>();

  private constructor(opts: FakeDiscordOptions) {
    this.token = opts.token ?? 'fake-discord-bot-token';
    this.gateway = new FakeDiscordGateway({
      token: () => this.token,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 45_000,
      ready: () => ({
        v: 10,
        user: this.bot,
        guilds: [{ id: this.guild.id, unavailable: true }],
        shard: [0, 1],
        application: { id: this.applicationId, flags: 0 },
        private_channels: [],
        relationships: [],
      }),
      afterReady: () => [{ t: 'GUILD_CREATE', d: this.guildPayload() }],
    });
  }

  static async start(opts: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(opts);
    const server = createServer((req, res) => void fake.onRequest(req, res));
    fake.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fake.apiBase = `${base}/api`;
    fake.gatewayUrl = fake.gateway.attach(server, base, '/gateway');
    return fake;
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The next request matching method and path gets this answer instead (e.g. a 429 or a 403). */
  failNext(method: string, path: RegExp, reply: ScriptedFailure): void {
    this.failures.push({ method, path, reply });
  }

  /** REST calls matching method and path (a RegExp on the path without /api/v10). */
  calls(method: string, path: RegExp): DiscordRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  /** Waits until at least `count` calls match; returns the count-th. */
  async waitForCall(method: string, path: RegExp, count = 1): Promise<DiscordRequest> {
    return waitFor(`${count} × ${method} ${path.source}`, () => this.calls(method, path)[count - 1]);
  }

  /** Contents the bot posted to a channel with POST /channels/:id/messages. */
  sentMessages(channelId: string): string[] {
    return this.calls('POST', new RegExp(`^/channels/${channelId}/messages$`)).map((r) => String(r.body?.content));
  }

  /** Waits for the bot to post `count` messages (in total) to a channel; returns their contents. */
  async waitForSentMessages(channelId: string, count = 1): Promise<string[]> {
    return waitFor(`${count} message(s) from the bot in ${channelId}`, () => {
      const sent = this.sentMessages(channelId);
      return sent.length >= count ? sent : undefined;
    });
  }

  /** Id of the latest message in a channel with exactly this content (the bot's or a user's). */
  messageIdOf(channelId: string, content: string): string {
    const found = [...this.messages.values()].reverse().find((m) => m.channel_id === channelId && m.content === content);
    if (!found) throw new Error(`no message "${content}" in ${channelId}`);
    return String(found.id);
  }

  dmChannelId(user: FakeDiscordUser = this.human): string {
    let id = this.dmChannels.get(user.id);
    if (!id) this.dmChannels.set(user.id, (id = snowflake()));
    return id;
  }

  /** Dispatches MESSAGE_CREATE as Discord would for a user (or bot) message; returns its id. */
  userMessage(spec: UserMessageSpec): string {
    const author = spec.author ?? this.human;
    const channelId = spec.dm ? this.dmChannelId(author) : (spec.channelId ?? this.guild.channelId);
    const message = this.messagePayload({ channelId, author, content: spec.content, guild: !spec.dm, replyTo: spec.replyTo });
    message.mention_roles = spec.mentionRoles ?? [];
    message.attachments = (spec.attachments ?? []).map((a) => this.attachmentPayload(channelId, a));
    if (spec.voice) message.flags = 1 << 13;
    if (spec.dm) message.channel_type = 1;
    else message.member = this.memberPayload([]);
    this.messages.set(String(message.id), message);
    this.gateway.dispatch('MESSAGE_CREATE', message);
    return String(message.id);
  }

  /** Dispatches INTERACTION_CREATE for a slash command; returns the interaction's id and token. */
  slashCommand(spec: SlashCommandSpec): { id: string; token: string; channelId: string } {
    const user = spec.user ?? this.human;
    const channelId = spec.dm ? this.dmChannelId(user) : (spec.channelId ?? this.guild.channelId);
    const id = snowflake();
    const token = `interaction-token-${id}`;
    this.interactions.set(id, { token, channelId, ...(!spec.dm && { guildId: this.guild.id }), expired: false });
    const options = Object.entries(spec.options ?? {}).map(([name, value]) => ({ name, type: 3, value }));
    this.gateway.dispatch('INTERACTION_CREATE', {
      id,
      application_id: this.applicationId,
      type: 2,
      token,
      version: 1,
      channel_id: channelId,
      channel: spec.dm ? { id: channelId, type: 1 } : { id: channelId, type: 0, name: this.guild.channelName, guild_id: this.guild.id },
      ...(spec.dm ? { user } : { guild_id: this.guild.id, member: { ...this.memberPayload([]), user, permissions: '0' } }),
      locale: 'en-US',
      app_permissions: '0',
      entitlements: [],
      authorizing_integration_owners: spec.dm ? { '1': user.id } : { '0': this.guild.id },
      context: spec.dm ? 1 : 0,
      data: { id: snowflake(), name: spec.name, type: 1, options },
    });
    return { id, token, channelId };
  }

  /** Makes the interaction's token invalid, as Discord does 15 minutes after the command. */
  expireInteraction(id: string): void {
    const interaction = this.interactions.get(id);
    if (interaction) interaction.expired = true;
  }

  private attachmentPayload(channelId: string, a: AttachmentSpec): Record<string, unknown> {
    const id = snowflake();
    const path = `/attachments/${channelId}/${id}/${encodeURIComponent(a.name)}`;
    this.files.set(path, { data: a.data, serving: a.serving ?? 'normal' });
    const url = `${new URL(this.apiBase).origin}${path}`;
    return {
      id,
      filename: a.name,
      size: a.statedSize ?? a.data.length,
      url,
      proxy_url: url,
      ...(a.contentType !== undefined && { content_type: a.contentType }),
      ...(a.durationSecs !== undefined && { duration_secs: a.durationSecs, waveform: 'AAAA' }),
    };
  }

  /** Resolves with the n-th (1-based) file the bot posted. */
  waitForUpload(n = 1): Promise<DiscordUpload> {
    return waitFor(`upload ${n} to the fake Discord`, () => this.uploads[n - 1]);
  }

  private guildPayload(): Record<string, unknown> {
    const { id, name, channelId, channelName, botRoleId } = this.guild;
    return {
      id,
      name,
      icon: null,
      owner_id: this.human.id,
      unavailable: false,
      large: false,
      member_count: 2,
      features: [],
      joined_at: new Date().toISOString(),
      roles: [
        { id, name: '@everyone', permissions: '0', position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 },
        { id: botRoleId, name: this.bot.username, permissions: '0', position: 1, color: 0, hoist: false, managed: true, mentionable: false, flags: 0, tags: { bot_id: this.bot.id } },
      ],
      channels: [{ id: channelId, type: 0, name: channelName, guild_id: id, position: 0, permission_overwrites: [], nsfw: false }],
      threads: [],
      members: [{ ...this.memberPayload([botRoleId]), user: this.bot }],
      emojis: [],
      stickers: [],
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
    };
  }

  private memberPayload(roles: string[]): Record<string, unknown> {
    return { roles, nick: null, joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 };
  }

  private messagePayload(m: { channelId: string; author: FakeDiscordUser; content: string; guild: boolean; replyTo?: string }): Record<string, unknown> {
    const mentions = [...m.content.matchAll(/<@!?(\d+)>/g)].map((match) => this.knownUser(match[1]!));
    const referenced = m.replyTo ? this.messages.get(m.replyTo) : undefined;
    if (referenced) mentions.push(referenced.author as FakeDiscordUser);
    return {
      id: snowflake(),
      channel_id: m.channelId,
      ...(m.guild && { guild_id: this.guild.id }),
      author: { discriminator: '0', avatar: null, global_name: null, ...m.author },
      content: m.content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions,
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      type: m.replyTo ? 19 : 0,
      flags: 0,
      ...(m.replyTo && {
        message_reference: { type: 0, message_id: m.replyTo, channel_id: m.channelId, ...(m.guild && { guild_id: this.guild.id }) },
        referenced_message: referenced ?? null,
      }),
    };
  }

  private knownUser(id: string): FakeDiscordUser {
    if (id === this.bot.id) return this.bot;
    if (id === this.human.id) return this.human;
    return { id, username: `user${id.slice(-4)}`, global_name: null };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const file = req.method === 'GET' ? this.files.get(url.pathname) : undefined;
    if (file) {
      this.fileRequests.push(url.pathname);
      return serveBytes(res, file.data, file.serving);
    }
    const pathname = decodeURIComponent(url.pathname);
    const path = pathname.startsWith(API_PREFIX) ? pathname.slice(API_PREFIX.length) : pathname;
    const { body, files } = readBody(Buffer.concat(chunks), req.headers['content-type'] ?? '');
    const request: DiscordRequest = { method: req.method ?? 'GET', path, query: url.searchParams, body, authorization: req.headers.authorization };

    this.requests.push(request);
    const failure = this.failures.findIndex((f) => f.method === request.method && f.path.test(path));
    if (failure >= 0) {
      const { reply } = this.failures.splice(failure, 1)[0]!;
      return json(res, reply.status, reply.body ?? { message: 'scripted failure', code: 0 }, reply.headers);
    }
    const channelId = /^\/channels\/(\d+)\/messages$/.exec(path)?.[1];
    if (channelId && files.length > 0 && request.authorization === `Bot ${this.token}`) {
      for (const f of files) this.uploads.push({ channelId, name: f.fileName ?? '', contentType: f.contentType, data: f.data, body: body ?? {} });
    }
    this.route(request, res);
  }

  private route(r: DiscordRequest, res: ServerResponse): void {
    const p = r.path.split('/').filter(Boolean);
    const webhook = p[0] === 'webhooks' || p[0] === 'interactions';
    if (!webhook && r.authorization !== `Bot ${this.token}`) return json(res, 401, { message: '401: Unauthorized', code: 0 });
    if (r.method === 'GET' && r.path === '/gateway/bot') {
      return json(res, 200, {
        url: this.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
      });
    }
    if (r.method === 'GET' && r.path === '/users/@me') return json(res, 200, this.bot);
    if (r.method === 'PUT' && p[0] === 'applications' && p[2] === 'commands') {
      const commands = Array.isArray(r.body) ? (r.body as Record<string, unknown>[]) : [];
      return json(res, 200, commands.map((c) => ({ id: snowflake(), application_id: p[1], type: 1, version: snowflake(), ...c })));
    }
    if (p[0] === 'channels' && p[2] === 'typing' && r.method === 'POST') return void res.writeHead(204).end();
    if (p[0] === 'channels' && p[2] === 'messages' && r.method === 'POST' && p.length === 3) return this.botMessage(res, p[1]!, r.body);
    if (p[0] === 'channels' && p[2] === 'messages' && r.method === 'PATCH' && p.length === 4) {
      const message = this.messages.get(p[3]!);
      if (!message || message.channel_id !== p[1]) return json(res, 404, { message: 'Unknown Message', code: 10008 });
      message.content = String(r.body?.content ?? '');
      this.edits.push({ messageId: p[3]!, content: String(message.content) });
      return json(res, 200, message);
    }
    if (p[0] === 'interactions' && p[3] === 'callback' && r.method === 'POST') {
      const interaction = this.interactions.get(p[1]!);
      if (!interaction || interaction.token !== p[2] || interaction.expired) return json(res, 404, { message: 'Unknown interaction', code: 10062 });
      return void res.writeHead(204).end();
    }
    if (p[0] === 'webhooks' && p[1] === this.applicationId) {
      const interaction = [...this.interactions.values()].find((i) => i.token === p[2]);
      if (!interaction || interaction.expired) return json(res, 401, { message: 'Invalid Webhook Token', code: 50027 });
      const isEdit = r.method === 'PATCH' && p[3] === 'messages' && p[4] === '@original';
      const isFollowUp = r.method === 'POST' && p.length === 3;
      if (isEdit || isFollowUp) return this.botMessage(res, interaction.channelId, r.body);
    }
    json(res, 404, { message: '404: Not Found', code: 0 });
  }

  private botMessage(res: ServerResponse, channelId: string, body: Record<string, unknown> | undefined): void {
    const reference = body?.message_reference as { message_id?: string } | undefined;
    const inGuild = channelId === this.guild.channelId;
    const message = this.messagePayload({ channelId, author: this.bot, content: String(body?.content ?? ''), guild: inGuild, replyTo: reference?.message_id });
    this.messages.set(String(message.id), message);
    json(res, 200, message);
  }
}

/** A JSON body, or a multipart one: its payload_json part and its files. */
function readBody(raw: Buffer, contentType: string): { body: Record<string, unknown> | undefined; files: ReturnType<typeof multipartParts> } {
  if (!contentType.startsWith('multipart/form-data')) return { body: raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : undefined, files: [] };
  const parts = multipartParts(raw, contentType);
  const payload = parts.find((p) => p.name === 'payload_json');
  return { body: payload ? (JSON.parse(payload.data.toString('utf8')) as Record<string, unknown>) : {}, files: parts.filter((p) => p.fileName !== undefined) };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
