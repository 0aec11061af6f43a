import type { HostTool } from './host-tool.js';
import { ToolRefusal } from './host-tool.js';
import { webFetch, WebFetchRefused, type WebFetchOptions } from './web-fetch.js';

/** web_fetch for the calling group: its own allowlist, the address and port rules of web-fetch.ts. */
export function webFetchTool(options: WebFetchOptions = {}): HostTool {
  return {
    name: 'web_fetch',
    async perform({ group, args }) {
      const url = typeof args.url === 'string' ? args.url : '';
      try {
        const page = await webFetch(url, group.webAllowlist, options);
        return { result: page, audit: { url, status: page.status, chars: page.text.length } };
      } catch (err) {
        if (err instanceof WebFetchRefused) throw new ToolRefusal(err.message, 'refused', { url });
        throw new ToolRefusal(`the fetch failed: ${(err as Error).message}`, 'error', { url });
      }
    },
  };
}
