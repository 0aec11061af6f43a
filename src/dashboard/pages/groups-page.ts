import { html } from 'hono/html';
import type { ContainerConfig } from '../../config/schema.js';
import type { PeriodLimits } from '../../ledger/limits.js';
import { formatTokens, formatUsd } from '../../ledger/money.js';
import type { GroupView } from '../operations.js';
import { list, type Html } from './layout.js';

const limits = (l: PeriodLimits) => `${l.usd === null ? 'no USD limit' : formatUsd(l.usd)}, ${l.tokens === null ? 'no token limit' : `${formatTokens(l.tokens)} tokens`}`;

/** Every group's settings, read-only, with its memory files as plain text. */
export function groupsPage(groups: readonly GroupView[], container: ContainerConfig): Html {
  return html`
<h2>Container limits (every group)</h2>
<dl class="settings"><dt>Memory</dt><dd>${container.memoryMb} MB</dd><dt>CPUs</dt><dd>${container.cpus}</dd><dt>Processes</dt><dd>${container.pidsLimit}</dd>
<dt>Idle stop</dt><dd>${container.idleTimeoutSeconds} s</dd><dt>Turn timeout</dt><dd>${container.turnTimeoutSeconds} s</dd><dt>Restarts</dt><dd>${container.maxRestarts}</dd></dl>
${groups.map((g) => html`<section class="group" id="group-${g.name}"><h2>${g.name}</h2>
<dl class="settings">
<dt>Chats</dt><dd>${list(g.chats)}</dd>
<dt>Model</dt><dd>${g.model}</dd><dt>Fallbacks</dt><dd>${list(g.fallbacks)}</dd>
<dt>Trigger</dt><dd>${g.trigger}${g.requireTrigger ? ' (required in group chats)' : ' (not required)'}</dd>
<dt>Time zone</dt><dd>${g.timezone}</dd><dt>Steps per turn</dt><dd>${g.maxSteps}</dd><dt>Output tokens per call</dt><dd>${g.maxOutputTokens}</dd>
<dt>Tools</dt><dd>${list(g.tools)}</dd><dt>Skills</dt><dd>${list(g.skills)}</dd>
<dt>Allowed senders</dt><dd>${g.allowSenders.length ? g.allowSenders.join(', ') : 'anyone in its chats'}</dd>
<dt>Web allowlist</dt><dd>${list(g.webAllowlist)}</dd>
<dt>Daily limit</dt><dd>${limits(g.limits.day)}</dd><dt>Monthly limit</dt><dd>${limits(g.limits.month)}</dd>
</dl>
<h3>Memory files (read-only)</h3>
${g.memoryFiles.length ? g.memoryFiles.map((f) => html`<details><summary>${f.name}${f.truncated ? ' (first 64 KiB)' : ''}</summary><pre>${f.text}</pre></details>`) : html`<p class="muted">None.</p>`}
</section>`)}`;
}
