import qrcode from 'qrcode-terminal';

/** Receives each pairing QR: the block to print (with the line saying what to do) and the raw QR text. */
export type QrOutput = (rendered: string, raw: string) => void;

export const SCAN_INSTRUCTION = 'Scan this QR code with WhatsApp on your phone: Settings > Linked devices > Link a device.';

/** The QR as a block of half-height characters, followed by what to do with it. */
export function renderQr(raw: string): string {
  let block = '';
  qrcode.generate(raw, { small: true }, (rendered) => (block = rendered));
  return `${block}\n${SCAN_INSTRUCTION}\nA new code replaces this one every 20 seconds or so until one is scanned.\n`;
}

export const writeQrToStderr: QrOutput = (rendered) => {
  process.stderr.write(`\n${rendered}\n`);
};
