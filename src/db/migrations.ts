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
];
