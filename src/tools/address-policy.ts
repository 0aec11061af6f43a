import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Addresses no agent may reach through web_fetch: loopback, private, link-local, and the like. */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and the IPv4-compatible ::a.b.c.d forms, however written
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo embeds IPv4
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b::', 96], // NAT64 can reach IPv4 private space
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215)
  ['fec0::', 10], // deprecated site-local
  ['2002::', 16], // 6to4 embeds IPv4
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** IPv4 written inside IPv6 (::ffff:10.0.0.1, ::ffff:0:10.0.0.1) is judged as the IPv4 address it is. */
function embeddedIpv4(ip: string): string | undefined {
  const match = /^::ffff:(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return match?.[1];
}

export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  if (family === 4) return !blocked.check(ip, 'ipv4');
  const v4 = embeddedIpv4(ip);
  if (v4) return isPublicAddress(v4);
  // IPv4-mapped written in hex: not what DNS answers for a public site; refused rather than decoded.
  if (/^::ffff:/i.test(ip)) return false;
  return !blocked.check(ip, 'ipv6');
}

/** Every address of this machine's own interfaces, v4 and v6, read anew each time (interfaces come and go). */
export function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
}

/** Whether `ip` is one of the host's own addresses (also in its IPv4-mapped IPv6 form). */
export function isOwnAddress(ip: string, own: readonly string[] = interfaceAddresses()): boolean {
  const list = new BlockList();
  for (const address of own) {
    const bare = address.replace(/%.*$/, '');
    const family = isIP(bare);
    if (family !== 0) list.addAddress(bare, family === 4 ? 'ipv4' : 'ipv6');
  }
  const bare = ip.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return false;
  const v4 = family === 6 ? embeddedIpv4(bare) : undefined;
  if (v4) return list.check(v4, 'ipv4');
  return list.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** The ports web_fetch reaches without the allowlist naming one. */
export const DEFAULT_WEB_PORTS: readonly number[] = [80, 443];

function parseEntry(entry: string): { domain: string; port?: number } {
  const at = entry.lastIndexOf(':');
  if (at < 0) return { domain: entry.toLowerCase() };
  return { domain: entry.slice(0, at).toLowerCase(), port: Number(entry.slice(at + 1)) };
}

function matchesDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/**
 * A domain allowlist entry also covers its subdomains: "wikipedia.org" allows "en.wikipedia.org".
 * An entry may name a port ("example.com:8443"); it allows that port besides 80 and 443.
 */
export function isAllowedHost(hostname: string, allowlist: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return allowlist.some((entry) => matchesDomain(host, parseEntry(entry).domain));
}

/** Ports 80 and 443, or one an allowlist entry covering the host names. */
export function isAllowedPort(hostname: string, port: number, allowlist: readonly string[]): boolean {
  if (DEFAULT_WEB_PORTS.includes(port)) return true;
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return allowlist.some((entry) => {
    const parsed = parseEntry(entry);
    return parsed.port === port && matchesDomain(host, parsed.domain);
  });
}
