import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';

export type ToolArgs = Record<string, unknown>;

/** An expected failure whose message is shown to the model as the tool result. */
export class ToolError extends Error {}

export interface Tool {
  definition: ChatCompletionFunctionTool;
  run(args: ToolArgs): Promise<string>;
}

export function defineTool(
  name: string,
  description: string,
  parameters: Record<string, unknown>,
  run: (args: ToolArgs) => Promise<string>,
): Tool {
  return { definition: { type: 'function', function: { name, description, parameters } }, run };
}

export function stringArg(args: ToolArgs, name: string): string;
export function stringArg(args: ToolArgs, name: string, fallback: string): string;
export function stringArg(args: ToolArgs, name: string, fallback?: string): string {
  const value = args[name];
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new ToolError(`missing required argument "${name}" (a string)`);
  }
  if (typeof value !== 'string') throw new ToolError(`argument "${name}" must be a string`);
  return value;
}

export function booleanArg(args: ToolArgs, name: string, fallback: boolean): boolean {
  const value = args[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new ToolError(`argument "${name}" must be true or false`);
  return value;
}

export function numberArg(args: ToolArgs, name: string, fallback: number): number {
  const value = args[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ToolError(`argument "${name}" must be a number`);
  return value;
}

function errorText(err: unknown): string {
  if (err instanceof ToolError) return `Error: ${err.message}`;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return `Error: ${code ? `${code}: ` : ''}${message}`;
}

/** The tools offered to the model, and the one place a tool call is parsed and dispatched. */
export class ToolSet {
  private readonly byName = new Map<string, Tool>();

  constructor(tools: readonly Tool[]) {
    for (const tool of tools) this.byName.set(tool.definition.function.name, tool);
  }

  definitions(): ChatCompletionFunctionTool[] {
    return [...this.byName.values()].map((tool) => tool.definition);
  }

  /** Never throws: bad arguments, unknown tools and tool failures all become text for the model. */
  async call(name: string, rawArguments: string): Promise<string> {
    const tool = this.byName.get(name);
    if (!tool) {
      return `Error: unknown tool "${name}". Available tools: ${[...this.byName.keys()].join(', ')}.`;
    }
    let args: unknown;
    try {
      args = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
    } catch {
      return `Error: the arguments for "${name}" were not valid JSON. Call the tool again with a JSON object.`;
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      return `Error: the arguments for "${name}" must be a JSON object.`;
    }
    try {
      return await tool.run(args as ToolArgs);
    } catch (err) {
      return errorText(err);
    }
  }
}
