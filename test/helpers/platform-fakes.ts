import { FakeDiscord } from '../fakes/fake-discord.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import { FakeTelegram } from '../fakes/fake-telegram.js';
import { FakeWhatsApp } from '../fakes/fake-whatsapp.js';

/** The four platform fakes, started together, with the enclave.yaml and vault secrets that point Enclave at them. */
export interface PlatformFakes {
  telegram: FakeTelegram;
  discord: FakeDiscord;
  slack: FakeSlack;
  whatsapp: FakeWhatsApp;
  /** `channels:` for enclave.yaml: all four enabled, each on its fake (Slack in http mode on a free port). */
  enclaveYaml: string;
  /** Channel tokens under their default vault names. */
  secrets: Record<string, string>;
  close(): Promise<void>;
}

export async function startPlatformFakes(): Promise<PlatformFakes> {
  const [telegram, discord, slack, whatsapp] = await Promise.all([FakeTelegram.start(), FakeDiscord.start(), FakeSlack.start(), FakeWhatsApp.start()]);
  const enclaveYaml = [
    'channels:',
    '  telegram:',
    '    enabled: true',
    `    apiRoot: ${telegram.apiRoot}`,
    '  discord:',
    '    enabled: true',
    `    apiBase: ${discord.apiBase}`,
    '  slack:',
    '    enabled: true',
    '    mode: http',
    '    host: 127.0.0.1',
    '    port: 0',
    `    apiUrl: ${slack.apiUrl}`,
    '  whatsapp:',
    '    enabled: true',
    '',
  ].join('\n');
  const secrets = {
    TELEGRAM_BOT_TOKEN: telegram.token,
    DISCORD_BOT_TOKEN: discord.token,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: slack.signingSecret,
  };
  return {
    telegram,
    discord,
    slack,
    whatsapp,
    enclaveYaml,
    secrets,
    async close() {
      await Promise.all([telegram.close(), discord.close(), slack.close(), whatsapp.close()]);
    },
  };
}
