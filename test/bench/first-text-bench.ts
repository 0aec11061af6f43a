/**
 * Time to first visible text of an answer, against the model's own time to first token measured
 * in the same run: through the local channel (the first event carrying text in the chat) and through
 * grammy against the fake Telegram (the first sendMessage / edit / draft carrying text). Real Docker.
 */
import type { LocalEvent } from '../../channels/local/local-channel.js';
import { ALICE, FakeTelegram, type ApiCall } from '../fakes/fake-telegram.js';
import { dmWith, telegramEnclaveYaml, telegramSecrets } from '../helpers/telegram-host.js';
import { localTurn, startBenchHost } from './bench-host.js';
import { measuredTtft, paceFromEnv, startPacedModel } from './paced-model.js';
import { fmtMs, percentile, type BenchOptions, type BenchSection } from './stats.js';

const LOCAL_TARGET_MS = 150;
const TELEGRAM_TARGET_MS = 400;
/** Bot API methods that put text in front of the user. */
const TEXT_METHODS = new Set(['sendMessage', 'editMessageText', 'sendMessageDraft']);

/** Any text in a local event, whatever shape a streaming event has (message, delta, edit). */
function eventText(event: LocalEvent, chatId: string): string | undefined {
  const e = event as unknown as { chatId?: string; text?: unknown; message?: { chatId?: string; text?: unknown } };
  const chat = e.message?.chatId ?? e.chatId;
  const text = e.message?.text ?? e.text;
  return chat === chatId && typeof text === 'string' && text.trim() !== '' ? text : undefined;
}

export async function benchFirstText(opts: BenchOptions): Promise<BenchSection> {
  const turns = Number(process.env.BENCH_FIRST_TEXT_TURNS ?? (opts.quick ? 4 : 10));
  const pace = paceFromEnv();
  const model = await startPacedModel(pace);
  const telegram = await FakeTelegram.start();
  const chat = dmWith(ALICE);
  const host = await startBenchHost(model, {
    enclaveYaml: telegramEnclaveYaml(telegram, `owners: [telegram:${ALICE.id}]`),
    secrets: telegramSecrets(telegram),
    groups: {
      main: 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\n',
      tg: `chats: [telegram:${chat.id}]\nmodel: fake-model\n`,
    },
  });
  const { app } = host;
  let onTelegramText: ((call: ApiCall) => void) | undefined;
  const record = telegram.calls.push.bind(telegram.calls);
  telegram.calls.push = (...calls: ApiCall[]) => {
    for (const c of calls) if (TEXT_METHODS.has(c.method) && String(c.params.chat_id) === String(chat.id) && String(c.params.text ?? '').trim()) onTelegramText?.(c);
    return record(...calls);
  };
  try {
    const ttft = await measuredTtft(model, 5);
    const local: number[] = [];
    const whole: number[] = [];
    await localTurn(app, 'main', 'warm-up');
    for (let i = 0; i < turns; i++) {
      let first = 0;
      const started = performance.now();
      const unsubscribe = app.local.subscribe((e) => {
        if (!first && eventText(e, 'main')) first = performance.now();
      });
      try {
        whole.push(await localTurn(app, 'main', `local ${i}`));
      } finally {
        unsubscribe();
      }
      local.push(first - started);
      await app.local.submit('main', '/reset').then((r) => r.settled);
    }

    const tg: number[] = [];
    const telegramTurn = async (text: string) => {
      const started = performance.now();
      const shown = new Promise<number>((resolve) => (onTelegramText = () => resolve(performance.now())));
      telegram.pushMessage({ chat, from: ALICE, text });
      const at = await shown;
      onTelegramText = undefined;
      // the turn's end: its reply stored; the next turn then starts from a quiet chat
      await app.queue.idle();
      return at - started;
    };
    await telegramTurn('warm-up');
    for (let i = 0; i < turns; i++) tg.push(await telegramTurn(`telegram ${i}`));

    const [l50, t50] = [percentile(local, 50), percentile(tg, 50)];
    const note = (v: number) => `model TTFT ${fmtMs(ttft)} (floor), +${fmtMs(v - ttft)}`;
    return {
      title: `Time to first visible text (${turns} turns each; model TTFT ${pace.ttftMs} ms, ${pace.tokensPerSecond} tokens/s, ${pace.answerTokens} tokens per answer)`,
      rows: [
        ['first visible text, local p50', fmtMs(l50), note(l50)],
        ['first visible text, local p95', fmtMs(percentile(local, 95)), note(percentile(local, 95))],
        ['whole reply, local p50', fmtMs(percentile(whole, 50)), `the model alone needs ${fmtMs(pace.ttftMs + ((pace.answerTokens - 1) * 1000) / pace.tokensPerSecond)} for the whole answer`],
        ['first visible text, Telegram fake p50', fmtMs(t50), note(t50)],
        ['first visible text, Telegram fake p95', fmtMs(percentile(tg, 95)), note(percentile(tg, 95))],
      ],
      targets: [
        { name: 'first visible text, local p50 - TTFT', value: `+${fmtMs(l50 - ttft)}`, target: `<= +${LOCAL_TARGET_MS} ms`, met: l50 - ttft <= LOCAL_TARGET_MS },
        { name: 'first visible text, Telegram p50 - TTFT', value: `+${fmtMs(t50 - ttft)}`, target: `<= +${TELEGRAM_TARGET_MS} ms`, met: t50 - ttft <= TELEGRAM_TARGET_MS },
      ],
    };
  } finally {
    await host.stop();
    await telegram.close();
    await model.close();
  }
}

