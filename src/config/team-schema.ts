import { z } from 'zod';

/** A group's (and a team's) name: its folder name under groups/. */
export const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const groupName = z.string().regex(NAME_RE, 'write group names as their folder names under groups/');

/** A board key: slash-separated segments, e.g. trip/research/hotels. */
export const BOARD_KEY_RE = /^[a-z0-9][a-z0-9._-]{0,63}(?:\/[a-z0-9][a-z0-9._-]{0,63}){0,7}$/;
/** An ACL entry: a key, or a key prefix ending in /* (never a bare *: that would cross every boundary). */
const BOARD_PATTERN_RE = /^[a-z0-9][a-z0-9._-]{0,63}(?:\/[a-z0-9][a-z0-9._-]{0,63}){0,7}(?:\/\*)?$/;

/** A pub/sub topic, e.g. trip.updates: one name within the team, no wildcard. */
export const TOPIC_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const topicName = z.string().regex(TOPIC_RE, 'write a topic such as trip.updates (lowercase letters, digits, . _ -, at most 64); wildcards such as * are not allowed');

const boardPattern = z.string().regex(BOARD_PATTERN_RE, 'write a board key such as trip/plan, or a prefix ending in /* such as trip/*; a bare * is not allowed');

/** enclave.yaml `teams.<name>`: who is in the team and how far one chain of work may go. */
export const teamSchema = z.strictObject({
  members: z.array(groupName).min(1, 'a team needs at least one member'),
  /** The most hand-offs one chain may nest (A asks B asks C is depth 2). */
  maxDepth: z.number().int().min(1).max(8).default(3),
  /** The most one chain of work may cost in all, on top of each group's own budget. */
  maxChainUsd: z.number().nonnegative().default(0.5),
  /** The most spawn_helper helpers one team runs at once. */
  maxHelpers: z.number().int().min(0).max(16).default(2),
  /** The most open tasks one turn may hand out. */
  maxFanOut: z.number().int().min(1).max(32).default(4),
  /** How long ask_agent waits for the answer before it reports a failure. */
  askTimeoutSeconds: z.number().int().min(5).max(3600).default(120),
  /** The least time between two turns that bring one subscriber its published events. */
  eventIntervalSeconds: z.number().int().min(1).max(86_400).default(60),
});

export const teamsSchema = z.record(z.string().regex(NAME_RE, 'team names use lowercase letters, digits, - and _'), teamSchema).default({});

/** group.yaml `team:`: what this group's agent may do in its team. Everything not listed is refused. */
export const groupTeamSchema = z.strictObject({
  /** Team members this agent may hand work to or ask. */
  handOffTo: z.array(groupName).default([]),
  board: z.strictObject({ read: z.array(boardPattern).default([]), write: z.array(boardPattern).default([]) }).default({ read: [], write: [] }),
  /** Topics of its team this agent may publish to, and those whose events it receives. */
  publish: z.array(topicName).default([]),
  subscribe: z.array(topicName).default([]),
  /** Whether this agent may start spawn_helper helpers (paid from its own budget and its chain's); unset = no. */
  helpers: z.boolean().optional(),
});

export type TeamConfig = z.infer<typeof teamSchema>;
export type GroupTeamAcl = z.infer<typeof groupTeamSchema>;
