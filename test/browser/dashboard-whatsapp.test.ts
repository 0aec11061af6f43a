import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { qrSvg } from '../../src/dashboard/whatsapp-qr.js';
import { FakeWhatsAppServer } from '../fakes/fake-whatsapp-server.js';
import { startHarnessBeside } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';
import { waitFor } from '../helpers/wait.js';
import { CHROMIUM, screenshot } from './dashboard-host.js';

test('WhatsApp linking: the QR from the (fake) WhatsApp server shows on the Access page as an image', async (t) => {
  const server = await FakeWhatsAppServer.start({ refs: ['ref-dashboard'] });
  const qrs: string[] = [];
  const h = await startHarnessBeside(t, server, {
    enclaveYaml: `dashboard: { enabled: true, port: 0 }\nchannels:\n  whatsapp: { enabled: true, socketUrl: ${server.url}, reconnect: { baseMs: 10, maxMs: 50 } }\n`,
    start: { runtime: new InProcessRuntime(), onWhatsAppQr: (_rendered, raw) => void qrs.push(raw) },
  });
  const raw = await waitFor('the first QR', () => qrs[0]);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(h.app.dashboard!.loginLink());
  await page.waitForURL(/\/$/);
  await page.goto(`${h.app.dashboard!.origin.origin}/access`);
  await page.waitForFunction(() => {
    const img = document.getElementById('qr') as HTMLImageElement | null;
    return img !== null && !img.hidden && img.complete && img.naturalWidth > 0;
  });
  const served = await page.evaluate(async () => (await fetch('/api/whatsapp/qr.svg')).text());
  assert.ok(raw.includes('ref-dashboard'));
  assert.equal(served, qrSvg(qrs[qrs.length - 1]!), 'the image is the newest QR the channel produced');
  await screenshot(page, 'access-whatsapp-qr');
});
