import type { Api } from 'grammy';

/** grammy types its signals with the abort-controller polyfill; at run time it takes Node's own. */
export type ApiSignal = NonNullable<Parameters<Api['getMe']>[0]>;

export const apiSignal = (signal: AbortSignal): ApiSignal => signal as unknown as ApiSignal;
