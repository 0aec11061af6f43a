import type { PlatformName } from '../../channels/platforms.js';
import { runPairWhatsAppWith } from '../cli/pair-whatsapp-command.js';
import { waitForWhoami, linkWhatsAppByQr } from './channel-session.js';
import { checkDiscordToken, checkSlackToken, checkTelegramToken, type TokenCheck } from './channel-tokens.js';
import { SetupError, type SetupContext } from './setup-context.js';

interface TokenPlatform {
  name: 'telegram' | 'discord' | 'slack';
  label: string;
  /** enclave.yaml key of the API root (so a fake or proxy can stand in) and its flag. */
  rootKey: string;
  rootFlag: 'telegramApiRoot' | 'discordApiBase' | 'slackApiUrl';
  tokenFlag: 'telegramTokenFromEnv' | 'discordTokenFromEnv' | 'slackTokenFromEnv';
  secretKey: string;
  defaultSecret: string;
  howTo: string;
  check: (root: string, token: string) => Promise<TokenCheck>;
}

const TOKEN_PLATFORMS: TokenPlatform[] = [
  {
    name: 'telegram', label: 'Telegram', rootKey: 'apiRoot', rootFlag: 'telegramApiRoot', tokenFlag: 'telegramTokenFromEnv', secretKey: 'tokenSecret', defaultSecret: 'TELEGRAM_BOT_TOKEN',
    howTo: 'In Telegram, message @BotFather, send /newbot, pick a name and a username; it answers with the token.',
    check: checkTelegramToken,
  },
  {
    name: 'discord', label: 'Discord', rootKey: 'apiBase', rootFlag: 'discordApiBase', tokenFlag: 'discordTokenFromEnv', secretKey: 'tokenSecret', defaultSecret: 'DISCORD_BOT_TOKEN',
    howTo: 'At https://discord.com/developers/applications: New Application > Bot > Reset Token; enable Message Content Intent.',
    check: checkDiscordToken,
  },
  {
    name: 'slack', label: 'Slack', rootKey: 'apiUrl', rootFlag: 'slackApiUrl', tokenFlag: 'slackTokenFromEnv', secretKey: 'tokenSecret', defaultSecret: 'SLACK_BOT_TOKEN',
    howTo: 'At https://api.slack.com/apps: create an app, enable Socket Mode (an xapp- token), add the bot scopes, install it; copy the Bot User OAuth Token (xoxb-).',
    check: checkSlackToken,
  },
];

/** Offers each platform in turn; returns the ones connected in this run (for the owner step). */
export async function connectChannels(ctx: SetupContext): Promise<PlatformName[]> {
  const connected: PlatformName[] = [];
  for (const p of TOKEN_PLATFORMS) if (await connectTokenPlatform(ctx, p)) connected.push(p.name);
  if (await connectWhatsApp(ctx)) connected.push('whatsapp');
  return connected;
}

async function connectTokenPlatform(ctx: SetupContext, p: TokenPlatform): Promise<boolean> {
  const section = ctx.config().enclave.channels[p.name] as unknown as Record<string, unknown> & { enabled: boolean };
  const flagged = ctx.flags[p.tokenFlag];
  if (!flagged) {
    if (!ctx.interactive) return false;
    const question = section.enabled ? `${p.label} is connected. Change its token?` : `Connect ${p.label}?`;
    if (!(await ctx.prompt.confirm(question, false))) return false;
    ctx.say(p.howTo);
  }
  const root = ctx.flags[p.rootFlag] ?? String(section[p.rootKey]);
  const secret = String(section[p.secretKey] ?? p.defaultSecret);
  for (let attempt = 1; ; attempt++) {
    const token = flagged ? ctx.fromEnv(flagged, `the ${p.label} token`) : await ctx.prompt.secret(`Paste the ${p.label} bot token`);
    ctx.say(`Checking the token with ${p.label} ...`);
    const verdict = token ? await p.check(root, token) : { ok: false as const, problem: 'no token was pasted', fix: 'paste the token' };
    if (verdict.ok) {
      ctx.store(secret, token);
      if (p.name === 'slack') await storeSlackAppToken(ctx, String(section.appTokenSecret ?? 'SLACK_APP_TOKEN'));
      ctx.file.set(['channels', p.name, 'enabled'], true, ` ${p.label}: token in the vault as ${secret}`);
      if (ctx.flags[p.rootFlag]) ctx.file.set(['channels', p.name, p.rootKey], root);
      ctx.save();
      ctx.say(`✓ ${p.label} bot ${verdict.botName} connected (token saved as ${secret}).`);
      return true;
    }
    if (flagged || attempt >= 3) throw new SetupError(`${verdict.problem}; nothing was saved. Fix: ${verdict.fix}`);
    ctx.say(`${verdict.problem}. ${verdict.fix}.`);
  }
}

async function storeSlackAppToken(ctx: SetupContext, secret: string): Promise<void> {
  const flagged = ctx.flags.slackAppTokenFromEnv;
  const token = flagged ? ctx.fromEnv(flagged, 'the Slack app token') : ctx.interactive ? await ctx.prompt.secret('Paste the Slack app-level token (xapp-..., for Socket Mode)') : '';
  if (token) ctx.store(secret, token);
  else ctx.say(`No app-level token given: Socket Mode needs one; store it later with \`enclave secrets set ${secret}\`.`);
}

async function connectWhatsApp(ctx: SetupContext): Promise<boolean> {
  let how = ctx.flags.whatsapp;
  if (!how) {
    if (!ctx.interactive || !(await ctx.prompt.confirm('Connect WhatsApp (as a linked device of your phone)?', false))) return false;
    how = await ctx.prompt.choose('How to link', [{ label: 'scan a QR code shown here', value: 'qr' as const }, { label: 'type a pairing code on the phone', value: 'code' as const }], 0);
  }
  ctx.file.set(['channels', 'whatsapp', 'enabled'], true, ' WhatsApp: a linked device; the session lives in data/whatsapp');
  ctx.save();
  const signal = AbortSignal.timeout(3 * 60_000);
  if (how === 'code') {
    const phone = ctx.flags.whatsappPhone ?? (ctx.interactive ? await ctx.prompt.ask('Your phone number with country code, digits only (e.g. 491701234567)') : undefined);
    if (!phone) throw new SetupError('pass --whatsapp-phone <number> to link WhatsApp with a pairing code');
    await runPairWhatsAppWith(ctx.config(), phone, ctx.log, (line) => ctx.say(line), signal);
  } else {
    ctx.say('Starting WhatsApp; a QR code appears below in a few seconds ...');
    await linkWhatsAppByQr({ config: ctx.config(), db: ctx.db, log: ctx.log, secret: ctx.secret, onWhatsAppQr: (rendered) => ctx.say(rendered) }, signal);
  }
  ctx.say('✓ WhatsApp linked.');
  return true;
}

/** The owner: given with --owner, or whoever sends /whoami to a connected bot now. */
export async function chooseOwner(ctx: SetupContext, connected: readonly PlatformName[]): Promise<void> {
  if (ctx.flags.owner) return addOwner(ctx, ctx.flags.owner);
  const owners = ctx.config().enclave.owners;
  let platform = ctx.flags.ownerFrom;
  if (!platform) {
    const candidates = connected.filter((c) => c !== 'whatsapp');
    if (!ctx.interactive || candidates.length === 0) return;
    if (owners.length > 0) ctx.say(`Owners now: ${owners.join(', ')}.`);
    if (!(await ctx.prompt.confirm(`Make your ${candidates.join('/')} account an owner (allowed to /register chats and approve people)?`, owners.length === 0))) return;
    platform = candidates.length === 1 ? candidates[0]! : await ctx.prompt.choose('Which platform', candidates.map((c) => ({ label: c, value: c })), 0);
  }
  const seconds = ctx.flags.ownerWaitSeconds ?? 300;
  ctx.say(`Now send /whoami to the bot in a direct message from your own ${platform} account. Waiting up to ${Math.round(seconds / 60) || 1} minute(s) ...`);
  const who = await waitForWhoami(platform, { config: ctx.config(), db: ctx.db, log: ctx.log, secret: ctx.secret }, AbortSignal.timeout(seconds * 1000));
  ctx.say(`Heard /whoami from ${who.name}.`);
  addOwner(ctx, who.identity);
}

function addOwner(ctx: SetupContext, identity: string): void {
  if (!/^[a-z]+:[^\s]+$/.test(identity)) throw new SetupError(`"${identity}" is not an identity; write it as <channel>:<id>, e.g. telegram:123456`);
  ctx.file.addOwner(identity);
  ctx.save();
  ctx.say(`✓ ${identity} is an owner.`);
}
