import { createRequire } from 'node:module';
import { writeQrToStderr, type QrOutput } from '../../channels/whatsapp/qr.js';
import type { Clock } from '../clock.js';

/** WhatsApp replaces its pairing QR about every 20 seconds; an older one is no use. */
const QR_TTL_MS = 60_000;

/** Keeps the newest WhatsApp pairing QR for the dashboard, and passes each on (default: the terminal). */
export class LatestWhatsAppQr {
  private raw: string | undefined;
  private at = 0;

  constructor(
    private readonly clock: Clock,
    private readonly next: QrOutput = writeQrToStderr,
  ) {}

  readonly output: QrOutput = (rendered, raw) => {
    this.raw = raw;
    this.at = this.clock();
    this.next(rendered, raw);
  };

  current(): string | undefined {
    return this.raw !== undefined && this.clock() - this.at < QR_TTL_MS ? this.raw : undefined;
  }
}

interface QrMatrix {
  addData(text: string): void;
  make(): void;
  getModuleCount(): number;
  isDark(row: number, col: number): boolean;
}

const require = createRequire(import.meta.url);
// The QR encoder that ships inside qrcode-terminal (already a dependency for the terminal QR).
const QRCode = require('qrcode-terminal/vendor/QRCode') as new (type: number, level: number) => QrMatrix;
const levels = require('qrcode-terminal/vendor/QRCode/QRErrorCorrectLevel') as { L: number };

/** The QR as an SVG image: one path of dark squares, a quiet zone of four modules. */
export function qrSvg(text: string): string {
  const qr = new QRCode(-1, levels.L);
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  let path = '';
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) path += `M${c + 4} ${r + 4}h1v1h-1z`;
  const size = n + 8;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges"><rect width="${size}" height="${size}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
}
