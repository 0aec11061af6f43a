/** A channel token checked against its platform: who the bot is, or what to do about it. */
export type TokenCheck = { ok: true; botName: string } | { ok: false; problem: string; fix: string };

const CHECK_TIMEOUT_MS = 15_000;

async function getJson(url: string, init: RequestInit, what: string): Promise<{ status: number; body: unknown } | { problem: string }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return { problem: `${what} cannot be reached (${cause})` };
  }
}

/** Telegram: getMe on the configured Bot API root. The token is part of the URL, so the URL is never shown. */
export async function checkTelegramToken(apiRoot: string, token: string): Promise<TokenCheck> {
  const answer = await getJson(`${apiRoot.replace(/\/+$/, '')}/bot${token}/getMe`, {}, `the Telegram Bot API at ${apiRoot}`);
  if ('problem' in answer) return { ok: false, problem: answer.problem, fix: 'check this machine\'s network (or channels.telegram.apiRoot)' };
  const body = answer.body as { ok?: boolean; result?: { username?: string; first_name?: string } } | undefined;
  if (answer.status === 401 || answer.status === 404) {
    return { ok: false, problem: 'Telegram does not accept this bot token', fix: 'copy the token again from @BotFather (/mybots > your bot > API Token)' };
  }
  if (!body?.ok || !body.result) return { ok: false, problem: `Telegram answered getMe with HTTP ${answer.status}`, fix: 'try again in a minute' };
  return { ok: true, botName: `@${body.result.username ?? body.result.first_name ?? 'unknown'}` };
}

/** Discord: GET /users/@me with the bot token, against the configured API base. */
export async function checkDiscordToken(apiBase: string, token: string): Promise<TokenCheck> {
  const answer = await getJson(`${apiBase.replace(/\/+$/, '')}/v10/users/@me`, { headers: { authorization: `Bot ${token}` } }, `the Discord API at ${apiBase}`);
  if ('problem' in answer) return { ok: false, problem: answer.problem, fix: 'check this machine\'s network (or channels.discord.apiBase)' };
  if (answer.status === 401) return { ok: false, problem: 'Discord does not accept this bot token', fix: 'reset the token in the Developer Portal (Bot > Reset Token) and paste it again' };
  const body = answer.body as { username?: string } | undefined;
  if (answer.status !== 200 || !body?.username) return { ok: false, problem: `Discord answered HTTP ${answer.status}`, fix: 'try again in a minute' };
  return { ok: true, botName: body.username };
}

/** Slack: auth.test with the bot token, against the configured Web API URL. */
export async function checkSlackToken(apiUrl: string, token: string): Promise<TokenCheck> {
  const base = apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;
  const answer = await getJson(`${base}auth.test`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }, `the Slack API at ${apiUrl}`);
  if ('problem' in answer) return { ok: false, problem: answer.problem, fix: 'check this machine\'s network (or channels.slack.apiUrl)' };
  const body = answer.body as { ok?: boolean; error?: string; user?: string; team?: string } | undefined;
  if (!body?.ok) {
    return { ok: false, problem: `Slack does not accept this bot token (${body?.error ?? `HTTP ${answer.status}`})`, fix: 'copy the Bot User OAuth Token (xoxb-...) again from your app\'s OAuth & Permissions page' };
  }
  return { ok: true, botName: `${body.user ?? 'bot'} in ${body.team ?? 'the workspace'}` };
}
