import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { networkInterfaces } from 'node:os';
import { interfaceAddresses, isOwnAddress, isPublicAddress } from '../../src/tools/address-policy.js';
import { htmlToText } from '../../src/tools/html-text.js';
import { webFetch, WebFetchRefused, type WebFetchOptions } from '../../src/tools/web-fetch.js';

/** A stand-in for a public web server: names resolve to a public address the dialer maps here (nothing is sent to it). */
const PUBLIC_TEST_ADDRESS = '93.184.215.14';
let server: Server;
let port = 0;
const hits: string[] = [];
const endless: { sent: number; closed: Promise<void> } = { sent: 0, closed: Promise.resolve() };

const dns: Record<string, string[]> = {
  'allowed.test': [PUBLIC_TEST_ADDRESS],
  'docs.allowed.test': [PUBLIC_TEST_ADDRESS],
  'rebind.test': ['10.0.0.5'],
  'mixed.test': [PUBLIC_TEST_ADDRESS, '127.0.0.1'],
  'other.test': [PUBLIC_TEST_ADDRESS],
};

function options(over: WebFetchOptions = {}): WebFetchOptions {
  return {
    resolve: async (host) => {
      const found = dns[host];
      if (!found) throw new Error('ENOTFOUND');
      return found;
    },
    dial: (address, p) => (address === PUBLIC_TEST_ADDRESS ? { host: '127.0.0.1', port } : { host: address, port: p }),
    ...over,
  };
}

const ALLOW = ['allowed.test', 'rebind.test', 'mixed.test', '127.0.0.1', '169.254.169.254'];

before(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.headers.host}${req.url}`);
    if (req.url === '/page') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end('<html><head><title>Test &amp; page</title><script>alert(1)</script></head><body><h1>Hello</h1><p>World &lt;3</p></body></html>');
    }
    if (req.url === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (req.url === '/to-loopback') return res.writeHead(301, { location: `http://127.0.0.1:${port}/page` }).end();
    if (req.url === '/to-rebind') return res.writeHead(302, { location: 'http://rebind.test/' }).end();
    if (req.url === '/to-page') return res.writeHead(302, { location: '/page' }).end();
    if (req.url === '/to-page-endless') {
      // A redirect whose body never ends: the fetch must hang up on it, not drain it forever.
      res.writeHead(302, { location: '/page', 'content-type': 'text/plain' });
      endless.sent = 0;
      endless.closed = new Promise((r) => res.once('close', () => r()));
      const pump = (): void => {
        while (!res.destroyed && res.write(Buffer.alloc(64 * 1024, 120))) endless.sent += 64 * 1024;
        if (!res.destroyed) res.once('drain', pump);
      };
      return pump();
    }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('x'.repeat(50_000));
    }
    if (req.url === '/binary') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(Buffer.alloc(10));
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

describe('web_fetch', () => {
  test('fetches an allowlisted page and extracts its text', async () => {
    const page = await webFetch('http://allowed.test/page', ALLOW, options());
    assert.equal(page.status, 200);
    assert.equal(page.text, 'Test & page\n\nHello\nWorld <3');
    assert.ok(!page.text.includes('alert'));
  });

  test('a subdomain of an allowlisted domain is allowed; a relative redirect is followed', async () => {
    const page = await webFetch('http://docs.allowed.test/to-page', ALLOW, options());
    assert.equal(page.url, 'http://docs.allowed.test/page');
    assert.match(page.text, /Hello/);
  });

  test('a redirect whose body never ends is hung up on: the fetch does not keep downloading it after it returns', async () => {
    const page = await webFetch('http://allowed.test/to-page-endless', ALLOW, options());
    assert.match(page.text, /Hello/);
    const atReturn = endless.sent;
    const closed = await Promise.race([endless.closed.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3000).unref())]);
    assert.ok(closed, `the redirect's connection is still being read: ${endless.sent - atReturn} bytes after the fetch returned`);
    assert.ok(endless.sent - atReturn <= 4 * 1024 * 1024, `${endless.sent - atReturn} bytes sent after the fetch returned`);
  });

  const refused: Array<[string, string, RegExp]> = [
    ['loopback, even when allowlisted', 'http://127.0.0.1/page', /127\.0\.0\.1.*private, loopback, link-local or reserved/],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254.*private/],
    ['a domain off the allowlist', 'http://other.test/page', /not on this group's web allowlist/],
    ['an allowlisted name resolving to a private address', 'http://rebind.test/', /10\.0\.0\.5/],
    ['a name with one private address among public ones', 'http://mixed.test/page', /127\.0\.0\.1/],
    ['a redirect from an allowed domain to metadata', 'http://allowed.test/to-metadata', /169\.254\.169\.254/],
    ['a redirect to loopback', 'http://allowed.test/to-loopback', /127\.0\.0\.1/],
    ['a redirect to a name resolving privately', 'http://allowed.test/to-rebind', /10\.0\.0\.5/],
    ['another scheme', 'file:///etc/passwd', /only http and https/],
    ['credentials in the URL', 'http://user:pw@allowed.test/page', /user name or password/],
    ['binary content', 'http://allowed.test/binary', /not text/],
    ['a port other than 80 and 443 the allowlist does not name', 'http://allowed.test:8080/page', /port 8080 is not allowed/],
  ];
  for (const [what, url, reason] of refused) {
    test(`refuses ${what}`, async () => {
      const before = hits.length;
      await assert.rejects(webFetch(url, ALLOW, options()), (err: Error) => err instanceof WebFetchRefused && reason.test(err.message));
      const reached = hits.slice(before).filter((h) => !h.startsWith('allowed.test'));
      assert.deepEqual(reached, [], 'no request reached a refused target');
    });
  }

  test('an allowlist entry that names a port allows that port for its domain only', async () => {
    const page = await webFetch('http://docs.allowed.test:8443/page', ['allowed.test:8443', 'other.test'], options());
    assert.match(page.text, /Hello/);
    await assert.rejects(webFetch('http://other.test:8443/page', ['allowed.test:8443', 'other.test'], options()), /port 8443 is not allowed/);
    await assert.rejects(webFetch('http://allowed.test:8444/page', ['allowed.test:8443'], options()), /port 8444 is not allowed/);
  });

  test('caps the size of what it reads and returns', async () => {
    const page = await webFetch('http://allowed.test/big', ALLOW, options({ maxBytes: 10_000, maxChars: 4_000 }));
    assert.equal(page.text.length, 4_000);
    assert.equal(page.truncated, true);
  });
});

/**
 * Each of these resolves an allowlisted name to an address that must never be reached, and dials
 * every address to the local listener: a fetch that is not refused reaches it.
 */
describe('web_fetch never reaches the host itself nor a special-use address', () => {
  const HOST_PUBLIC_ADDRESS = '93.184.215.99';
  const cases: Array<[string, string]> = [
    ['the host\'s own public interface address', HOST_PUBLIC_ADDRESS],
    ['the host\'s own address in IPv4-mapped form', `::ffff:${HOST_PUBLIC_ADDRESS}`],
    ['TEST-NET-1', '192.0.2.10'],
    ['TEST-NET-2', '198.51.100.10'],
    ['TEST-NET-3', '203.0.113.10'],
    ['the 6to4 relay range', '192.88.99.1'],
    ['IPv6 documentation', '2001:db8::1'],
    ['IPv6 discard-only', '100::1'],
    ['an IPv4-compatible IPv6 form of a public address', '::93.184.215.14'],
    ['an IPv4-compatible form written in hex', '::5db8:d70e'],
  ];
  for (const [what, address] of cases) {
    test(`refuses ${what} (${address})`, async () => {
      const before = hits.length;
      const opts = options({
        resolve: async () => [address],
        dial: () => ({ host: '127.0.0.1', port }),
        ownAddresses: () => [...interfaceAddresses(), HOST_PUBLIC_ADDRESS],
      });
      await assert.rejects(webFetch('http://allowed.test/page', ALLOW, opts), (err: Error) => err instanceof WebFetchRefused && err.message.includes(address));
      assert.deepEqual(hits.slice(before), [], 'the listener was not reached');
    });
  }

  test('the host\'s own addresses are every interface address, v4 and v6', () => {
    const all = Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address));
    assert.ok(all.length > 0);
    for (const address of all) assert.equal(isOwnAddress(address), true, address);
    assert.equal(isOwnAddress('93.184.215.14', ['10.0.0.1', 'fe80::1']), false);
    assert.equal(isOwnAddress('::ffff:10.0.0.1', ['10.0.0.1']), true);
  });
});

describe('address policy', () => {
  test('private, loopback, link-local and mapped forms are not public', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '224.0.0.1', '64:ff9b:1::a00:1', 'fec0::1', 'not-an-ip', '::a00:1', '::ffff:a00:1', '2001::1']) {
      assert.equal(isPublicAddress(ip), false, ip);
    }
    for (const ip of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111']) assert.equal(isPublicAddress(ip), true, ip);
  });

  test('htmlToText decodes entities and drops scripts and styles', () => {
    assert.equal(htmlToText('<style>p{}</style><p>a&#39;b &#x263A;</p>'), "a'b ☺");
  });
});
