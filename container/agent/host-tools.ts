import type { HostToolRequest, HostToolResponse } from './protocol.js';
import { defineTool, type Tool, type ToolArgs } from './tools.js';

export type CallHostTool = (tool: string, request: HostToolRequest) => Promise<HostToolResponse>;

export interface HostToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

const WEB_FETCH: HostToolSpec = {
  name: 'web_fetch',
  description:
    'Fetch one http(s) web page and get its text (performed by the host). Only domains on this group\'s allowlist can be reached; ' +
    'private and internal addresses never. Long pages are cut off.',
  parameters: {
    type: 'object',
    properties: { url: { type: 'string', description: 'Full http:// or https:// URL' } },
    required: ['url'],
    additionalProperties: false,
  },
};

/** Tools the host performs: the runner only forwards the call; the host decides and answers. */
export function hostTools(turnId: string, enabled: readonly string[], specs: readonly HostToolSpec[], call: CallHostTool): Tool[] {
  return [...specs, WEB_FETCH]
    .filter((spec) => enabled.includes(spec.name))
    .map((spec) =>
      defineTool(spec.name, spec.description, spec.parameters, async (args: ToolArgs) => {
        const response = await call(spec.name, { turnId, args });
        return JSON.stringify(response.ok ? (response.result ?? { ok: true }) : { error: response.error ?? 'refused by the host' });
      }),
    );
}
