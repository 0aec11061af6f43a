import { ApplicationCommandOptionType, type ChatInputCommandInteraction, type RESTPutAPIApplicationCommandsJSONBody } from 'discord.js';
import type { ChatCommand } from '../channel.js';

const ASK = 'ask';
const ASK_OPTION = 'text';
const ARGS_OPTION = 'args';

/** Discord's rule for slash command names (lowercase). */
const SLASH_COMMAND_NAME = /^[a-z0-9_-]{1,32}$/;

/**
 * The global slash commands: /ask, then each of the host's commands, passed on as `/name args`
 * (its arguments, such as `/model <name>`, in an optional text option).
 */
export function slashCommands(assistantName: string, hostCommands: readonly ChatCommand[]): RESTPutAPIApplicationCommandsJSONBody {
  const host = hostCommands.filter((c) => SLASH_COMMAND_NAME.test(c.name) && c.name !== ASK && c.description !== '');
  return [
    {
      name: ASK,
      description: `Ask ${assistantName} something`.slice(0, 100),
      options: [{ type: ApplicationCommandOptionType.String, name: ASK_OPTION, description: 'What you want to ask', required: true }],
    },
    ...host.map((c) => ({
      name: c.name,
      description: c.description.slice(0, 100),
      options: [{ type: ApplicationCommandOptionType.String as const, name: ARGS_OPTION, description: 'Arguments, if the command takes any', required: false }],
    })),
  ];
}

/** /ask's question as plain text addressed to the bot; any other command as `/name args`. */
export function commandText(interaction: ChatInputCommandInteraction): { text: string; isAsk: boolean } {
  if (interaction.commandName === ASK) {
    return { text: (interaction.options.getString(ASK_OPTION) ?? '').trim(), isAsk: true };
  }
  const args = (interaction.options.getString(ARGS_OPTION) ?? '').trim();
  return { text: args ? `/${interaction.commandName} ${args}` : `/${interaction.commandName}`, isAsk: false };
}
