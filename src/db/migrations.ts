/** Schema versions, applied in order, each once. Never edit a shipped migration: add a new one. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    platform_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    text TEXT NOT NULL,
    reply_to TEXT,
    sent_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    group_name TEXT,
    status TEXT NOT NULL,
    is_direct INTEGER NOT NULL DEFAULT 0,
    UNIQUE (channel, chat_id, platform_id)
  );
  CREATE INDEX messages_pending ON messages (group_name, status);

  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    group_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    text TEXT NOT NULL,
    reply_to TEXT,
    dedupe_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    chunks_sent INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    given_up_at INTEGER
  );
  CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL AND given_up_at IS NULL;

  CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    group_name TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER
  );
  CREATE INDEX sessions_open ON sessions (group_name) WHERE ended_at IS NULL;

  CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX history_session ON history (session_id, id);

  CREATE TABLE turns (
    id TEXT PRIMARY KEY,
    group_name TEXT NOT NULL,
    status TEXT NOT NULL,
    model TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    error TEXT
  );

  CREATE TABLE containers (
    group_name TEXT PRIMARY KEY,
    container_id TEXT,
    image TEXT,
    state TEXT NOT NULL,
    started_at INTEGER,
    last_used_at INTEGER,
    restarts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  );
  `,
  `
  -- Issue 3: vault, ledger, budgets, audit.
  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    iv BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    tag BLOB NOT NULL,
    key_check TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  -- Append-only: a 'reserve' row before each upstream call, one 'settle' row after it.
  -- window_at is the reservation's time; both rows count in the windows that contain it.
  CREATE TABLE ledger (
    id INTEGER PRIMARY KEY,
    reservation_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('reserve', 'settle')),
    group_name TEXT NOT NULL,
    model TEXT NOT NULL,
    provider TEXT NOT NULL,
    micros INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    input_tokens INTEGER,
    cached_tokens INTEGER,
    output_tokens INTEGER,
    outcome TEXT,
    window_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (reservation_id, kind)
  );
  CREATE INDEX ledger_group_window ON ledger (group_name, window_at);
  CREATE INDEX ledger_window ON ledger (window_at);
  CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
  CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

  -- Owner changes to limits; the newest row per (scope, period, unit) wins.
  CREATE TABLE budget_limits (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    period TEXT NOT NULL CHECK (period IN ('day', 'month')),
    unit TEXT NOT NULL CHECK (unit IN ('usd', 'tokens')),
    amount INTEGER,
    set_by TEXT NOT NULL,
    set_at INTEGER NOT NULL
  );
  CREATE INDEX budget_limits_scope ON budget_limits (scope, period, unit, id);

  -- One notice per group, window and level (50, 80, 100, or 'refused').
  CREATE TABLE budget_notices (
    group_name TEXT NOT NULL,
    window_key TEXT NOT NULL,
    level TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (group_name, window_key, level)
  );

  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    group_name TEXT,
    actor TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

  -- Issue 4: channels.
  CREATE TABLE channel_state (
    channel TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (channel, key)
  );

  CREATE TABLE seen_chats (
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    title TEXT,
    is_direct INTEGER NOT NULL DEFAULT 0,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, chat_id)
  );

  -- Issue 5: access control, settings, tasks.
  CREATE TABLE pairings (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'revoked', 'expired')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_at INTEGER,
    decided_by TEXT
  );
  CREATE INDEX pairings_sender ON pairings (channel, sender_id, status);
  CREATE INDEX pairings_code ON pairings (code);

  CREATE TABLE refusal_notices (
    key TEXT PRIMARY KEY,
    sent_at INTEGER NOT NULL
  );

  CREATE TABLE group_settings (
    group_name TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (group_name, key)
  );

  CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    group_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('cron', 'interval', 'once')),
    spec TEXT NOT NULL,
    timezone TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'cancelled', 'done')),
    next_run_at INTEGER,
    last_run_at INTEGER,
    last_result TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX tasks_due ON tasks (status, next_run_at);
  `,
  `
  -- Running totals per budget window, kept in the same transaction as the ledger rows, so a
  -- reservation checks a few rows instead of summing the whole window. The ledger stays the
  -- record; the totals can be rebuilt from it.
  CREATE TABLE ledger_totals (
    scope TEXT NOT NULL,
    period TEXT NOT NULL CHECK (period IN ('day', 'month')),
    window_key TEXT NOT NULL,
    settled_micros INTEGER NOT NULL DEFAULT 0,
    settled_tokens INTEGER NOT NULL DEFAULT 0,
    open_micros INTEGER NOT NULL DEFAULT 0,
    open_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, period, window_key)
  );
  -- The windows a reservation counts in (JSON: [{scope, period, key}]), so its settlement moves the same totals.
  ALTER TABLE ledger ADD COLUMN windows TEXT;
  `,
  `
  -- Threads and forum topics: a conversation in a Telegram topic or a Slack thread is answered
  -- there, including messages sent without a reply target (send_message, notices, task answers).
  ALTER TABLE messages ADD COLUMN thread_id TEXT;
  ALTER TABLE outbox ADD COLUMN thread_id TEXT;
  ALTER TABLE tasks ADD COLUMN thread_id TEXT;
  `,
  `
  -- Photos, voice notes and documents as the platform described them (JSON InboundAttachment[]):
  -- fetched only when the message's turn runs, so nothing is downloaded for an ignored message.
  ALTER TABLE messages ADD COLUMN attachments TEXT;
  `,
  `
  -- Files the agent sends (send_file): the row's text is the caption; the file is a host-owned copy
  -- in the outbox folder, delivered once like text and removed when the row is done.
  ALTER TABLE outbox ADD COLUMN file_path TEXT;
  ALTER TABLE outbox ADD COLUMN file_kind TEXT;
  ALTER TABLE outbox ADD COLUMN file_name TEXT;
  ALTER TABLE outbox ADD COLUMN file_mime TEXT;
  `,
  `
  -- Live replies: what a reply's live messages showed (JSON, see core/live-delivery.ts), so the
  -- outbox finishes them; and each live message posted by a turn not finished yet, so a restart
  -- can mark it interrupted instead of leaving half an answer.
  ALTER TABLE outbox ADD COLUMN live TEXT;
  CREATE TABLE live_messages (
    id INTEGER PRIMARY KEY,
    turn_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    thread_id TEXT,
    mode TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX live_messages_turn ON live_messages (turn_id);
  `,
  `
  -- Agent teams (src/teams): chains of work between groups' agents, their tasks, the shared board
  -- and published events. A task finishes once (its state moves out of queued/running only once).
  CREATE TABLE team_chains (
    id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    origin_group TEXT NOT NULL,
    origin_channel TEXT,
    origin_chat_id TEXT,
    origin_thread_id TEXT,
    limit_micros INTEGER NOT NULL,
    spent_micros INTEGER NOT NULL DEFAULT 0,
    reserved_micros INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('open', 'gave_up', 'cancelled')),
    created_at INTEGER NOT NULL
  );
  CREATE TABLE team_tasks (
    id INTEGER PRIMARY KEY,
    chain_id TEXT NOT NULL REFERENCES team_chains (id),
    team TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('ask', 'hand_off')),
    from_group TEXT NOT NULL,
    to_group TEXT NOT NULL,
    parent_task INTEGER,
    from_turn TEXT,
    depth INTEGER NOT NULL,
    visited TEXT NOT NULL,
    title TEXT NOT NULL,
    brief TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    result TEXT,
    error TEXT,
    reported INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX team_tasks_todo ON team_tasks (to_group, state);
  CREATE INDEX team_tasks_unreported ON team_tasks (from_group, reported) WHERE reported = 0;
  CREATE TABLE team_board (
    team TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (team, key)
  );
  `,
  `
  -- Agent teams' published events, one row per subscriber still to receive it (src/teams/event-store.ts),
  -- and when each subscriber last had a turn that brought it events (the rate limit survives a restart).
  -- AUTOINCREMENT: an id is never used twice (an events turn's outbox dedupe key is made of ids).
  CREATE TABLE team_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team TEXT NOT NULL,
    subscriber TEXT NOT NULL,
    topic TEXT NOT NULL,
    from_group TEXT NOT NULL,
    payload TEXT NOT NULL,
    chain_id TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX team_events_subscriber ON team_events (subscriber, id);
  CREATE TABLE team_event_turns (
    subscriber TEXT PRIMARY KEY,
    last_at INTEGER NOT NULL
  );
  `,
  `
  -- An ask whose asker stopped waiting (it timed out): its late answer comes as a new turn. An ask
  -- still waited on when the host stopped is dropped at the next start: the asker runs again and asks anew.
  ALTER TABLE team_tasks ADD COLUMN detached INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- How many events turns led to an event (1: published outside any events turn): past the team's maxDepth a publish is refused, so two agents cannot trade events for ever.
  ALTER TABLE team_events ADD COLUMN hop INTEGER NOT NULL DEFAULT 1;
  `,
];
