import { ApplicationCommandOptionType, type ChatInputCommandInteraction, type RESTPutAPIApplicationCommandsJSONBody } from 'discord.js';

const ASK = 'ask';
const ASK_OPTION = 'text';

/** The global slash commands; every one but /ask is a host command passed on as `/name`. */
export function slashCommands(assistantName: string): RESTPutAPIApplicationCommandsJSONBody {
  return [
    {
      name: ASK,
      description: `Ask ${assistantName} something`.slice(0, 100),
      options: [{ type: ApplicationCommandOptionType.String, name: ASK_OPTION, description: 'What you want to ask', required: true }],
    },
    { name: 'status', description: 'Model, container and channel status of this chat' },
    { name: 'budget', description: "This chat's spending and limits" },
    { name: 'reset', description: 'Start a fresh conversation (memory files stay)' },
  ];
}

/** /ask's question as plain text addressed to the bot; any other command as `/name`. */
export function commandText(interaction: ChatInputCommandInteraction): { text: string; isAsk: boolean } {
  if (interaction.commandName === ASK) {
    return { text: (interaction.options.getString(ASK_OPTION) ?? '').trim(), isAsk: true };
  }
  return { text: `/${interaction.commandName}`, isAsk: false };
}
