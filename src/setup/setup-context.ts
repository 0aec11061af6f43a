import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlatformName } from '../../channels/platforms.js';
import { AuditLog } from '../audit/audit-log.js';
import { loadConfig, seedHome, type Config } from '../config/load.js';
import { openDatabase, type Db } from '../db/database.js';
import { createLogger, scrubSecrets, type Logger } from '../logger.js';
import { homePaths, packageRoot, type HomePaths } from '../paths.js';
import { resolveSecret, Vault } from '../vault/vault.js';
import { ConfigFile } from './config-writer.js';
import { Prompter } from './prompter.js';

/** Everything `enclave setup` can be told on the command line instead of being asked. */
export interface SetupFlags {
  provider?: string;
  baseUrl?: string;
  model?: string;
  /** Name of an environment variable holding the provider key (keys never go on the command line). */
  keyFromEnv?: string;
  inputPrice?: number;
  cachedInputPrice?: number;
  outputPrice?: number;
  dailyBudget?: number;
  monthlyBudget?: number;
  /** false: skip the test call (--no-test-call). */
  testCall?: boolean;
  telegramTokenFromEnv?: string;
  telegramApiRoot?: string;
  discordTokenFromEnv?: string;
  discordApiBase?: string;
  slackTokenFromEnv?: string;
  slackAppTokenFromEnv?: string;
  slackApiUrl?: string;
  whatsapp?: 'qr' | 'code';
  whatsappPhone?: string;
  /** An owner identity given directly, e.g. telegram:123456. */
  owner?: string;
  /** Wait for /whoami on this platform and make its sender the owner. */
  ownerFrom?: PlatformName;
  ownerWaitSeconds?: number;
  /** Never ask: take flags, then current values, then defaults; fail on what is missing. */
  yes?: boolean;
}

export interface SetupIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  home: string;
}

/** A problem the wizard cannot get past in this run; the message says what to do. */
export class SetupError extends Error {
  override name = 'SetupError';
}

/** The open state one run of the wizard works on. */
export class SetupContext {
  readonly paths: HomePaths;
  readonly db: Db;
  readonly vault: Vault;
  readonly file: ConfigFile;
  readonly prompt: Prompter;
  readonly log: Logger;
  /** Values read from the environment for this run (keys passed by --*-from-env): scrubbed like vault values. */
  private readonly extraSecrets: string[] = [];

  constructor(
    readonly flags: SetupFlags,
    readonly io: SetupIo,
  ) {
    this.paths = homePaths(io.home);
    seedHome(io.home);
    this.file = ConfigFile.open(this.paths.configFile, readFileSync(join(packageRoot(), 'groups', 'templates', 'enclave.yaml.template'), 'utf8'));
    this.db = openDatabase(this.paths.dbFile);
    try {
      this.vault = Vault.open(this.db, { dataDir: this.paths.dataDir, env: io.env, audit: new AuditLog(this.db), actor: 'setup' });
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.log = createLogger({ destination: this.paths.logFile, secrets: () => this.secretValues() });
    const scrubbed = {
      write: (chunk: string | Buffer) => io.output.write(scrubSecrets(chunk.toString(), this.secretValues())),
    } as unknown as NodeJS.WritableStream;
    this.prompt = new Prompter(io.input, scrubbed);
  }

  get interactive(): boolean {
    return this.flags.yes !== true;
  }

  say(text = ''): void {
    this.prompt.say(text);
  }

  /** The configuration as enclave.yaml now says (after this run's saves). */
  config(): Config {
    return loadConfig(this.paths.home, this.io.env, (name) => this.vault.get(name) !== undefined);
  }

  secret = (name: string): string | undefined => resolveSecret(name, this.vault, this.io.env);

  secretValues = (): string[] => [...this.vault.values(), ...this.vault.keyTexts(), ...this.extraSecrets];

  /** A secret from the environment variable a --*-from-env flag names. */
  fromEnv(variable: string, what: string): string {
    const value = this.io.env[variable]?.trim();
    if (!value) throw new SetupError(`${what}: the environment variable ${variable} is empty or not set; export it first (e.g. read -s ${variable}; export ${variable})`);
    this.extraSecrets.push(value);
    return value;
  }

  /** Stores a secret in the vault; it is scrubbed from everything printed afterwards. */
  store(name: string, value: string): void {
    this.extraSecrets.push(value);
    this.vault.set(name, value);
  }

  save(): void {
    this.file.save();
  }

  close(): void {
    this.prompt.close();
    this.db.close();
  }
}
