/** What the audit log records. Every row also carries the hash of the row before it. */
export type AuditKind =
  | 'model_call'
  | 'model_refused'
  | 'tool_call'
  | 'denial'
  | 'secret_change'
  | 'budget_change'
  | 'access_change'
  | 'group_change'
  | 'task_change'
  /** Agent teams: hand-offs, asks, board writes, chain changes, each with its chain id. */
  | 'team';

export interface AuditEntry {
  kind: AuditKind;
  group?: string;
  /** Who caused it: 'agent:<group>', 'owner', 'cli', 'telegram:123', 'host', ... */
  actor?: string;
  /** Plain JSON; never a secret value. */
  detail: Record<string, unknown>;
}

export interface AuditRow extends AuditEntry {
  id: number;
  at: number;
  prevHash: string;
  hash: string;
}

export interface AuditSink {
  append(entry: AuditEntry): void;
}
