import type { GroupConfig } from '../../src/config/groups.js';

/** A complete GroupConfig for unit tests; pass only what the test is about. */
export function testGroup(over: Partial<GroupConfig> & { name: string }): GroupConfig {
  const model = over.model ?? 'm';
  const fallbacks = over.fallbacks ?? [];
  return {
    dir: `/x/${over.name}`,
    memoryDir: `/x/${over.name}/memory`,
    chats: [`local:${over.name}`],
    trigger: '@enclave',
    requireTrigger: true,
    model,
    fallbacks,
    allowedModels: [...new Set([model, ...fallbacks])],
    timezone: 'UTC',
    maxSteps: 5,
    allowSenders: [],
    tools: ['send_message', 'schedule_task', 'list_tasks', 'cancel_task'],
    skills: [],
    skillFiles: [],
    webAllowlist: [],
    budget: { dailyUsd: 1, monthlyUsd: 20 },
    maxOutputTokens: 4096,
    ...over,
  };
}
