import { z } from 'zod';
import { channelsSchema } from './channels-schema.js';
import { dashboardSchema } from './dashboard-schema.js';
import { groupTeamSchema, teamsSchema } from './team-schema.js';

export { NAME_RE as GROUP_NAME_RE } from './team-schema.js';
export const CHAT_REF_RE = /^[a-z]+:[^\s]+$/;
/** A person on a platform: <channel>:<sender id>, e.g. telegram:123456 or whatsapp:4915123456789. */
export const IDENTITY_RE = /^[a-z]+:[^\s]+$/;
export const HOST_TOOLS = ['send_message', 'send_file', 'schedule_task', 'list_tasks', 'cancel_task', 'web_fetch'] as const;
export { DM_POLICIES } from './schema-access.js';

const identityList = z.array(z.string().regex(IDENTITY_RE, 'write people as <channel>:<id>, e.g. telegram:123456'));

export { channelAccessSchema } from './schema-access.js';

const positiveInt = z.number().int().positive();
const usd = z.number().nonnegative();

/** USD per one million tokens. 0 is a valid price (local models). */
export const priceSchema = z
  .object({
    input: usd,
    cachedInput: usd.optional(),
    output: usd,
    /**
     * The most output tokens one call can produce, hidden reasoning included. Set it for models
     * whose max_tokens does not cap their reasoning; reservations then count this many.
     */
    maxOutputTokens: positiveInt.optional(),
    /** The model reads image parts: photos reach it as images (otherwise as a placeholder naming the staged file). */
    vision: z.boolean().optional(),
    /** Prompt tokens reserved per started 512×512 tile of an image sent to this model (default 6000). */
    imageTokensPerTile: positiveInt.optional(),
    /** Prompt tokens reserved per image on top of its tiles (default 3000). */
    imageBaseTokens: z.number().int().min(0).optional(),
    /** USD per minute of audio, for a speech-to-text model (transcription.model). */
    perMinute: usd.optional(),
  })
  .strict();

/** Limits and sizes for received photos, voice notes and documents. */
export const mediaSchema = z
  .object({
    imageMaxMb: z.number().positive().max(100).default(20),
    audioMaxMb: z.number().positive().max(100).default(25),
    audioMaxSeconds: positiveInt.default(600),
    documentMaxMb: z.number().positive().max(100).default(20),
    /** Characters of a document's extracted text the agent gets (the rest is cut with a notice). */
    documentMaxChars: positiveInt.default(50_000),
    /** PDF pages read for text; the rest is left unread with a notice. */
    documentMaxPages: positiveInt.default(100),
    /** Longest edge of an image after the host resized it, in pixels. */
    maxEdgePx: z.number().int().min(64).max(8192).default(1568),
    /** How long all of one turn's files may take together (downloads, reading, transcription). */
    timeoutSeconds: positiveInt.default(60),
    /** Bytes a group's inbox (received files, outside its disk limit) may hold; the oldest messages' files go first. */
    inboxMaxMb: z.number().positive().max(1_000_000).default(500),
    /** Files taken in per turn, across all its queued messages; the rest get a notice. */
    maxFilesPerTurn: positiveInt.default(10),
    /** The largest file the agent may send to a chat with send_file, in MB. */
    sendMaxMb: z.number().positive().max(100).default(20),
  })
  .strict();

/** Speech-to-text for voice notes: any OpenAI-compatible POST /audio/transcriptions. */
export const transcriptionSchema = z
  .object({
    /** A provider's name from `providers` (its baseUrl, key and prices are used). */
    provider: z.string().min(1),
    model: z.string().min(1).default('whisper-1'),
  })
  .strict();

/** Spend limits for one window pair; a missing key means no limit of that kind. */
export const budgetLimitsSchema = z
  .object({
    dailyUsd: usd.optional(),
    monthlyUsd: usd.optional(),
    dailyTokens: z.number().int().nonnegative().optional(),
    monthlyTokens: z.number().int().nonnegative().optional(),
  })
  .strict();

export const providerSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9_-]+$/, 'use letters, digits, - and _ only'),
    baseUrl: z.string().url('must be a full URL such as https://api.openai.com/v1'),
    /** Name of the secret holding the key (vault first, then the environment); omit for keyless local servers. */
    secret: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, ., - and _ only').optional(),
    /** Models this provider serves; omit to accept any model name. */
    models: z.array(z.string().min(1)).optional(),
    /** model -> USD per 1M tokens. A model with no price here or in the top-level prices is refused. */
    prices: z.record(z.string().min(1), priceSchema).default({}),
    timeoutSeconds: positiveInt.default(120),
  })
  .strict();

export const containerSchema = z
  .object({
    idleTimeoutSeconds: positiveInt.default(300),
    turnTimeoutSeconds: positiveInt.default(300),
    memoryMb: z.number().int().min(64).default(512),
    cpus: z.number().positive().max(64).default(1),
    pidsLimit: z.number().int().min(16).default(256),
    maxRestarts: z.number().int().min(0).max(10).default(3),
    /** Hard size limit of each group's memory folder in MB, enforced by the kernel; 0 = no limit (the owner's explicit choice). */
    diskMb: z.number().int().refine((n) => n === 0 || n >= 8, 'use 0 (no limit) or at least 8').default(256),
  })
  .strict();

export const defaultsSchema = z
  .object({
    model: z.string().min(1).default('gpt-4o-mini'),
    trigger: z.string().min(1).default('@enclave'),
    maxSteps: z.number().int().min(1).max(100).default(12),
    historyMessages: z.number().int().min(0).max(500).default(40),
  })
  .strict();

export const enclaveConfigSchema = z
  .object({
    assistantName: z.string().min(1).default('Enclave'),
    /** People who may use admin commands everywhere (the local chat user always may). */
    owners: identityList.default([]),
    maxContainers: z.number().int().min(1).max(64).default(4),
    maxMessageChars: z.number().int().min(100).max(1_000_000).default(16_000),
    defaults: defaultsSchema.default(() => defaultsSchema.parse({})),
    container: containerSchema.default(() => containerSchema.parse({})),
    providers: z.array(providerSchema).default([]),
    /** model -> USD per 1M tokens, for every provider (a provider's own prices win). */
    prices: z.record(z.string().min(1), priceSchema).default({}),
    budgets: z
      .object({
        /** Limits for each group that sets none of its own. */
        group: budgetLimitsSchema.default({ dailyUsd: 1, monthlyUsd: 20 }),
        /** Limits across all groups together, in the host's time zone. */
        global: budgetLimitsSchema.default({}),
        /** max_tokens the proxy sets (and caps) on every model call. */
        maxOutputTokens: positiveInt.default(4096),
      })
      .strict()
      .default({ group: { dailyUsd: 1, monthlyUsd: 20 }, global: {}, maxOutputTokens: 4096 }),
    /** How long a provider+model that failed (5xx, 429, timeout) is skipped. */
    failoverCooldownSeconds: z.number().int().min(0).default(60),
    media: mediaSchema.default(() => mediaSchema.parse({})),
    /** Unset: voice notes are staged for the agent but not transcribed. */
    transcription: transcriptionSchema.optional(),
    channels: channelsSchema.default(() => channelsSchema.parse({})),
    dashboard: dashboardSchema.default(() => dashboardSchema.parse({})),
    /** Agent teams: members and chain limits (README "Agent teams"). */
    teams: teamsSchema,
  })
  .strict();

export const groupConfigSchema = z
  .object({
    chats: z
      .array(z.string().regex(CHAT_REF_RE, 'write chats as <channel>:<chat id>, e.g. local:main or telegram:-1001234'))
      .default([]),
    trigger: z.string().min(1).optional(),
    /** In group chats, answer only when triggered (trigger word, mention, reply). DMs always answer. */
    requireTrigger: z.boolean().default(true),
    model: z.string().min(1).optional(),
    fallbacks: z.array(z.string().min(1)).default([]),
    timezone: z.string().optional(),
    maxSteps: z.number().int().min(1).max(100).optional(),
    /** Only these people may talk to the group's agent (owners always may); empty = anyone in the chat. */
    allowSenders: identityList.default([]),
    /** Host-performed tools the agent may call. */
    tools: z.array(z.enum(HOST_TOOLS)).default(['send_message', 'send_file', 'schedule_task', 'list_tasks', 'cancel_task']),
    /** Skills from skills/<name>/ mounted read-only into the container. */
    skills: z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'skill names are folder names under skills/')).default([]),
    /** Domains web_fetch may reach (a domain also allows its subdomains). */
    webAllowlist: z.array(z.string().regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, 'write a domain such as en.wikipedia.org, or with a port: example.com:8443')).default([]),
    /** Overrides enclave.yaml budgets.group for this group. */
    budget: budgetLimitsSchema.optional(),
    maxOutputTokens: positiveInt.optional(),
    /** Host-tool call limits (defaults: 200 calls a turn, 120 a minute, 20 send_message calls a turn). */
    toolLimits: z
      .strictObject({ callsPerTurn: positiveInt.optional(), callsPerMinute: positiveInt.optional(), messagesPerTurn: positiveInt.optional() })
      .optional(),
    /** This agent's rights in its team (README "Agent teams"); absent = none. */
    team: groupTeamSchema.optional(),
  })
  .strict();

export type ModelPriceConfig = z.infer<typeof priceSchema>;
export type BudgetLimits = z.infer<typeof budgetLimitsSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type MediaConfig = z.infer<typeof mediaSchema>;
export type TranscriptionConfig = z.infer<typeof transcriptionSchema>;
export type ContainerConfig = z.infer<typeof containerSchema>;
export type DashboardConfig = z.infer<typeof dashboardSchema>;
export type EnclaveConfig = z.infer<typeof enclaveConfigSchema>;
export type GroupFileConfig = z.infer<typeof groupConfigSchema>;
