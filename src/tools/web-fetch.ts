import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { htmlToText } from './html-text.js';
import type { WebPage } from '../../container/agent/host-tool-contract.js';
import { interfaceAddresses, isAllowedHost, isAllowedPort, isOwnAddress, isPublicAddress } from './address-policy.js';

export type { WebPage };

export interface WebFetchOptions {
  /** Bytes read from the server at most; the rest is cut off. */
  maxBytes?: number;
  /** Time for the whole fetch, redirects included. */
  timeoutMs?: number;
  maxRedirects?: number;
  /** Characters of text handed to the agent at most. */
  maxChars?: number;
  resolve?: (hostname: string) => Promise<string[]>;
  /**
   * Where the TCP connection for an already-checked address goes. Production connects to the
   * address itself; tests map a public test address onto a local fake server.
   */
  dial?: (address: string, port: number) => { host: string; port: number };
  /** This machine's own addresses, never reached (default: every interface's, read at each hop). */
  ownAddresses?: () => readonly string[];
}

/** The fetch broke a rule (allowlist, private address, scheme, size); the message says which. */
export class WebFetchRefused extends Error {}

const DEFAULTS = { maxBytes: 1024 * 1024, timeoutMs: 15_000, maxRedirects: 5, maxChars: 20_000 };
const TEXT_TYPES = /^(text\/|application\/(json|xml|xhtml\+xml|rss\+xml|atom\+xml|ld\+json))/i;

async function resolveAll(hostname: string): Promise<string[]> {
  return (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);
}

function portOf(url: URL): number {
  return Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
}

/** Checks one hop: scheme, credentials, allowlist, port, and that every address the name has is public and not this host's. */
async function checkedAddress(url: URL, allowlist: readonly string[], resolve: (h: string) => Promise<string[]>, own: () => readonly string[]): Promise<string> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebFetchRefused(`only http and https URLs can be fetched, not ${url.protocol}`);
  if (url.username || url.password) throw new WebFetchRefused('URLs with a user name or password are not fetched');
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (!isAllowedHost(hostname, allowlist)) {
    throw new WebFetchRefused(`${hostname} is not on this group's web allowlist (${allowlist.join(', ') || 'empty'}); the owner can add it to webAllowlist in group.yaml`);
  }
  const addresses = isIP(hostname) ? [hostname] : await resolve(hostname).catch((err: Error) => {
    throw new WebFetchRefused(`${hostname} could not be resolved (${err.message})`);
  });
  if (addresses.length === 0) throw new WebFetchRefused(`${hostname} has no address`);
  const blocked = addresses.find((a) => !isPublicAddress(a));
  if (blocked) throw new WebFetchRefused(`${hostname} resolves to ${blocked}, a private, loopback, link-local or reserved address, which web_fetch never reaches`);
  const ownAddresses = own();
  const mine = addresses.find((a) => isOwnAddress(a, ownAddresses));
  if (mine) throw new WebFetchRefused(`${hostname} resolves to ${mine}, an address of the Enclave host itself, which web_fetch never reaches`);
  const port = portOf(url);
  if (!isAllowedPort(hostname, port, allowlist)) {
    throw new WebFetchRefused(`port ${port} is not allowed: web_fetch reaches ports 80 and 443 only, unless the owner names the port in webAllowlist (e.g. ${hostname}:${port})`);
  }
  return addresses[0]!;
}

function get(url: URL, address: string, opts: Required<Pick<WebFetchOptions, 'dial'>>, signal: AbortSignal): Promise<IncomingMessage> {
  const target = opts.dial(address, portOf(url));
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.host,
      port: target.port,
      servername: isIP(url.hostname) ? undefined : url.hostname,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      signal,
      headers: { host: url.host, 'user-agent': 'Enclave-web_fetch/1', accept: 'text/html,text/plain;q=0.9,application/json;q=0.8,*/*;q=0.1' },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readCapped(res: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    const room = maxBytes - size;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.length, room);
    if (size >= maxBytes) {
      res.destroy();
      return { body: Buffer.concat(chunks), truncated: true };
    }
  }
  return { body: Buffer.concat(chunks), truncated: false };
}

/**
 * GET a page for an agent: http(s) only, allowlisted domains only, ports 80 and 443 unless the
 * allowlist names another, never a private, loopback, link-local or reserved address nor one of the
 * host's own (checked after DNS, and again on every redirect), with size and time caps.
 */
export async function webFetch(rawUrl: string, allowlist: readonly string[], options: WebFetchOptions = {}): Promise<WebPage> {
  const opts = { ...DEFAULTS, ...options };
  const resolve = options.resolve ?? resolveAll;
  const dial = options.dial ?? ((address: string, port: number) => ({ host: address, port }));
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new WebFetchRefused(`"${rawUrl.slice(0, 200)}" is not a URL`);
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no complete answer within ${opts.timeoutMs / 1000} s`)), opts.timeoutMs);
  try {
    for (let hop = 0; ; hop++) {
      const address = await checkedAddress(url, allowlist, resolve, options.ownAddresses ?? interfaceAddresses);
      const res = await get(url, address, { dial }, abort.signal);
      const location = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
        // The redirect's body is never read: an endless one would be downloaded for ever.
        res.destroy();
        if (hop >= opts.maxRedirects) throw new WebFetchRefused(`more than ${opts.maxRedirects} redirects`);
        url = new URL(location, url);
        continue;
      }
      const contentType = String(res.headers['content-type'] ?? 'application/octet-stream');
      if (!TEXT_TYPES.test(contentType)) {
        res.destroy();
        throw new WebFetchRefused(`${url.href} is ${contentType}, not text; only text and HTML pages are fetched`);
      }
      const { body, truncated } = await readCapped(res, opts.maxBytes);
      const raw = body.toString('utf8');
      const text = /html/i.test(contentType) ? htmlToText(raw) : raw;
      const cut = text.length > opts.maxChars;
      return { url: url.href, status: res.statusCode ?? 0, contentType, text: cut ? text.slice(0, opts.maxChars) : text, truncated: truncated || cut };
    }
  } catch (err) {
    if (abort.signal.aborted) throw new WebFetchRefused(String((abort.signal.reason as Error | undefined)?.message ?? 'timed out'), { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
    // Whatever is still open for this fetch (a body cut short, a redirect) is closed with it.
    abort.abort(new Error('the fetch is over'));
  }
}
