import { HOST_TOOL_SPECS } from './host-tool-contract.js';
import type { HostToolRequest, HostToolResponse } from './protocol.js';
import { defineTool, type Tool, type ToolArgs } from './tools.js';

export type CallHostTool = (tool: string, request: HostToolRequest) => Promise<HostToolResponse>;

/** Tools the host performs: the runner only forwards the call; the host checks, performs and answers. */
export function hostTools(turnId: string, enabled: readonly string[], call: CallHostTool): Tool[] {
  return HOST_TOOL_SPECS.filter((spec) => enabled.includes(spec.name)).map((spec) =>
    defineTool(spec.name, spec.description, spec.parameters, async (args: ToolArgs) => {
      const response = await call(spec.name, { turnId, args });
      return JSON.stringify(response.ok ? (response.result ?? { ok: true }) : { error: response.error ?? 'refused by the host' });
    }),
  );
}
