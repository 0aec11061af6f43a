import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dmWith } from '../helpers/telegram-host.js';
import { waitFor } from '../helpers/wait.js';
import { logIn, screenshot, startDashboardHost, STRANGER, XSS_NAME } from './dashboard-host.js';

test('the dashboard in a real browser: login link, every page with the host\'s data, live turns, approving a pairing', async (t) => {
  const host = await startDashboardHost(t);
  const { h, fake } = host;
  const page = await host.context.newPage();
  const scriptErrors: string[] = [];
  page.on('pageerror', (err) => scriptErrors.push(err.message));

  await t.test('the link from `enclave dashboard` logs in and leaves no token in the address bar', async () => {
    await logIn(host, page);
    assert.equal(page.url(), `${host.origin}/`);
    const cookies = await host.context.cookies(host.origin);
    const session = cookies.find((c) => c.name === 'enclave_session');
    assert.ok(session, 'a session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    const { sessions } = await host.control({ action: 'sessions' });
    assert.equal(sessions?.length, 1);
  });

  await t.test('Overview: channels, both groups, their containers, and the live stream connects', async () => {
    await page.waitForFunction(() => document.getElementById('live-state')?.textContent === 'live');
    const channels = await page.textContent('#channels');
    assert.match(channels!, /telegram\s*connected/);
    assert.match(channels!, /local\s*connected/);
    const groups = await page.textContent('#groups');
    assert.match(groups!, /main/);
    assert.match(groups!, /ops/);
    assert.match(groups!, /running/, 'the warm containers of the two turns show as running');
    await screenshot(page, 'overview');
  });

  await t.test('a turn that starts appears without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    h.model.push({ content: 'a slow answer', delayMs: 3000 });
    const turn = h.say('main', 'think slowly');
    await page.waitForFunction(() => /turn running/.test(document.getElementById('groups')?.textContent ?? '') && document.getElementById('turns-running')?.textContent === '1', undefined, { timeout: 15_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the page was not reloaded');
    await screenshot(page, 'overview-turn-running');
    await turn;
    await page.waitForFunction(() => !/turn running/.test(document.getElementById('groups')?.textContent ?? ''), undefined, { timeout: 15_000 });
  });

  await t.test('stopping a running turn from the Overview cuts it off and is audited as the session', async () => {
    h.model.push({ content: 'an answer nobody waits for', delayMs: 20_000 });
    const turn = h.say('main', 'take your time');
    await page.waitForFunction(() => /turn running/.test(document.getElementById('groups')?.textContent ?? ''), undefined, { timeout: 15_000 });
    await page.selectOption('select[name=group]', 'main');
    await page.click('form[action="/actions/stop-turn"] button');
    assert.match((await page.textContent('.flash'))!, /Stopped the running turn of main/);
    await turn;
    const row = h.app.audit.tail(5, { kind: 'group_change' }).find((r) => r.detail.action === 'stop_turn');
    assert.match(row?.actor ?? '', /^dashboard:[0-9a-f]{8}$/);
  });

  await t.test('Spend: the numbers of `enclave usage` per group and in total, and the chart', async () => {
    await page.goto(`${host.origin}/spend`);
    const usage = await page.textContent('#usage');
    for (const name of ['main', 'ops', 'all groups']) assert.match(usage!, new RegExp(name));
    assert.match(usage!, /\$5\.00/, 'the global daily limit');
    await page.waitForSelector('#chart .uplot canvas');
    const legend = await page.textContent('#chart');
    assert.match(legend!, /main/);
    assert.match(legend!, /all groups/);
    await screenshot(page, 'spend');
  });

  await t.test('Spend: setting a budget in the browser changes the limit and is audited as the session', async () => {
    await page.selectOption('select[name=scope]', 'ops');
    await page.fill('input[name=amount]', '2.50');
    await page.click('form[action="/actions/budget"] button');
    await page.waitForURL(`${host.origin}/spend`);
    assert.match((await page.textContent('.flash'))!, /daily budget of ops is now \$2\.50/);
    assert.match((await page.textContent('#usage'))!, /\$2\.50/);
    const row = h.app.audit.tail(1, { kind: 'budget_change' })[0];
    assert.match(row?.actor ?? '', /^dashboard:[0-9a-f]{8}$/);
  });

  await t.test('Audit: rows, filters by group and kind, the chain verified', async () => {
    await page.goto(`${host.origin}/audit`);
    // The first view starts the walk over the log off the request; a reload shows its result.
    const chain = await waitFor('the chain verified', async () => {
      await page.goto(`${host.origin}/audit`);
      const text = (await page.textContent('#chain')) ?? '';
      return /Verifying/.test(text) ? undefined : text;
    });
    assert.match(chain, /Chain verified/);
    assert.match((await page.textContent('#audit'))!, /model_call/);
    await page.selectOption('select[name=group]', 'ops');
    await page.selectOption('select[name=kind]', 'model_call');
    await page.click('form[action="/audit"] button');
    await page.waitForURL(/group=ops/);
    const groupsShown = await page.$$eval('#audit tbody tr td:nth-child(4)', (tds) => tds.map((td) => td.textContent));
    assert.ok(groupsShown.length > 0);
    assert.ok(groupsShown.every((g) => g === 'ops'), `only ops rows: ${groupsShown.join(',')}`);
    await page.goto(`${host.origin}/audit?kind=denial`);
    await screenshot(page, 'audit');
  });

  await t.test('Groups: settings and memory files, shown read-only as text', async () => {
    await page.goto(`${host.origin}/groups`);
    const ops = await page.textContent('#group-ops');
    assert.match(ops!, /fake-model-b/);
    assert.match(ops!, /en\.wikipedia\.org/);
    assert.match(ops!, /MEMORY\.md/);
    await page.click('#group-ops summary:has-text("notes.md")');
    assert.ok((await page.textContent('#group-ops pre:visible'))!.includes(XSS_NAME), 'the markup shows as text');
    await screenshot(page, 'groups');
  });

  await t.test('Tasks: the scheduled task with its prompt as text; pause and resume', async () => {
    await page.goto(`${host.origin}/tasks`);
    assert.ok((await page.textContent('#tasks'))!.includes(`Daily digest ${XSS_NAME}`));
    await page.click('#tasks button:has-text("Pause")');
    assert.match((await page.textContent('.flash'))!, /paused/);
    assert.match((await page.textContent('#tasks'))!, /paused/);
    await page.click('#tasks button:has-text("Resume")');
    assert.match((await page.textContent('.flash'))!, /resumed/);
    await screenshot(page, 'tasks');
  });

  await t.test('Access: the stranger waits with a code; approving in the browser lets their next DM reach the agent', async () => {
    await page.goto(`${host.origin}/access`);
    const pending = await page.textContent('#pending');
    assert.ok(pending!.includes(host.strangerCode));
    assert.ok(pending!.includes(XSS_NAME), 'their chosen name shows as text');
    await screenshot(page, 'access');
    await page.click(`#pending tr:has-text("${host.strangerCode}") button:has-text("Approve")`);
    assert.match((await page.textContent('.flash'))!, /Approved/);
    assert.match((await page.textContent('#approved'))!, new RegExp(`telegram:${STRANGER.id}`));
    const approval = h.app.audit.tail(5, { kind: 'access_change' }).find((r) => r.detail.action === 'approve');
    assert.match(approval?.actor ?? '', /^dashboard:[0-9a-f]{8}$/);

    const before = h.model.requests.length;
    fake.pushMessage({ chat: dmWith(STRANGER), from: STRANGER, text: 'am I in now?' });
    await waitFor('the approved stranger\'s DM to reach the agent', () => h.model.requests.slice(before).some((r) => JSON.stringify(r.body).includes('am I in now?')));
    await screenshot(page, 'access-approved');

    await page.click(`#approved tr:has-text("telegram:${STRANGER.id}") button:has-text("Revoke")`);
    assert.match((await page.textContent('.flash'))!, /Revoked telegram:4202/);
    const after = h.model.requests.length;
    fake.pushMessage({ chat: dmWith(STRANGER), from: STRANGER, text: 'still there?' });
    await waitFor('the revoked stranger to be refused', () => h.app.audit.tail(5, { kind: 'denial' }).some((r) => r.actor === `telegram:${STRANGER.id}` && r.id > approval!.id));
    assert.ok(!h.model.requests.slice(after).some((r) => JSON.stringify(r.body).includes('still there?')), 'a revoked person no longer reaches the agent');
  });

  await t.test('no page ran markup from chat or memory, fetched a Markdown image, or had a script fail', async () => {
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.deepEqual(host.elsewhere, [], 'the browser asked nothing of any other host');
    assert.deepEqual(scriptErrors, []);
  });
});
