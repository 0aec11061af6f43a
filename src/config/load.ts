import { formatChatRef, type ChatRef } from '../../channels/chat-ref.js';
import { copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { homePaths, packageRoot, type HomePaths } from '../paths.js';
import { loadGroups, type GroupConfig } from './groups.js';
import { resolveProviders } from './providers.js';
import { resolveTeams } from './teams.js';
import { enclaveConfigSchema, type EnclaveConfig, type ProviderConfig } from './schema.js';
import { loadYamlFile } from './yaml-file.js';

/** One immutable snapshot of the configuration; a reload makes a new one. */
export interface Config {
  readonly paths: HomePaths;
  readonly enclave: EnclaveConfig;
  readonly providers: readonly ProviderConfig[];
  readonly groups: ReadonlyMap<string, GroupConfig>;
  readonly defaultModel: string;
}

/** Where skills are looked up: ENCLAVE_HOME/skills first, then the ones shipped with Enclave. */
export function skillRoots(paths: HomePaths): string[] {
  return [...new Set([join(paths.home, 'skills'), join(packageRoot(), 'skills')])];
}

/**
 * Loads and validates everything; throws ConfigError without writing anything. `hasSecret` tells
 * whether the vault holds a key (a provider key stored there counts like one in the environment).
 */
export function loadConfig(home: string, env: NodeJS.ProcessEnv = process.env, hasSecret: (name: string) => boolean = () => false): Config {
  const paths = homePaths(home);
  const enclave = existsSync(paths.configFile)
    ? loadYamlFile(paths.configFile, enclaveConfigSchema, 'Enclave config')
    : enclaveConfigSchema.parse({});
  const defaultModel = env.ENCLAVE_MODEL ?? enclave.defaults.model;
  return {
    paths,
    enclave,
    providers: resolveProviders(enclave, env, hasSecret),
    groups: resolveTeams(paths.configFile, enclave, loadGroups(paths.groupsDir, enclave, defaultModel, skillRoots(paths))),
    defaultModel,
  };
}

/** A new ENCLAVE_HOME gets the shipped default groups (main + global memory) and a starter enclave.yaml. */
export function seedHome(home: string): boolean {
  const paths = homePaths(home);
  mkdirSync(home, { recursive: true });
  if (!existsSync(paths.configFile)) copyFileSync(join(packageRoot(), 'groups', 'templates', 'enclave.yaml.template'), paths.configFile);
  if (existsSync(paths.groupsDir)) return false;
  const templates = join(packageRoot(), 'groups');
  cpSync(join(templates, 'main'), join(paths.groupsDir, 'main'), { recursive: true });
  cpSync(join(templates, 'global'), join(paths.groupsDir, 'global'), { recursive: true });
  return true;
}

export function groupForChat(cfg: Config, channel: string, chatId: string): GroupConfig | undefined {
  const ref = formatChatRef({ channel, chatId });
  for (const g of cfg.groups.values()) if (g.chats.includes(ref)) return g;
  return undefined;
}

/** Whether the chat still belongs to the group (it may have been removed or moved since). */
export function groupHasChat(cfg: Config, group: string, chat: ChatRef): boolean {
  return cfg.groups.get(group)?.chats.includes(formatChatRef(chat)) ?? false;
}

/**
 * The same configuration with every group.yaml and the `teams:` of enclave.yaml read again (after
 * /register, `enclave groups add`, `enclave team apply`, ...); enclave.yaml's other keys wait for a restart.
 */
export function withReloadedGroups(config: Config): Config {
  const { configFile } = config.paths;
  const teams = existsSync(configFile) ? loadYamlFile(configFile, enclaveConfigSchema, 'Enclave config').teams : config.enclave.teams;
  const enclave = { ...config.enclave, teams };
  const groups = loadGroups(config.paths.groupsDir, enclave, config.defaultModel, skillRoots(config.paths));
  return { ...config, enclave, groups: resolveTeams(configFile, enclave, groups) };
}
