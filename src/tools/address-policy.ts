import { BlockList, isIP } from 'node:net';

/** Addresses no agent may reach through web_fetch: loopback, private, link-local, and the like. */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
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

/** IPv4 written inside IPv6 (::ffff:10.0.0.1, ::10.0.0.1) is judged as the IPv4 address it is. */
function embeddedIpv4(ip: string): string | undefined {
  const match = /^::(?:ffff:(?:0:)?)?(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return match?.[1];
}

export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  if (family === 4) return !blocked.check(ip, 'ipv4');
  const v4 = embeddedIpv4(ip);
  if (v4) return isPublicAddress(v4);
  if (/^::ffff:/i.test(ip)) return false;
  return !blocked.check(ip, 'ipv6');
}

/** A domain allowlist entry also covers its subdomains: "wikipedia.org" allows "en.wikipedia.org". */
export function isAllowedHost(hostname: string, allowlist: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return allowlist.some((domain) => host === domain || host.endsWith(`.${domain}`));
}
