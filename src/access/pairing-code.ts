import { randomInt } from 'node:crypto';

/** No 0/O, 1/I/L: a code read aloud or typed from a phone should not be ambiguous. */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const PAIRING_CODE_LENGTH = 8;

export function newPairingCode(): string {
  let code = '';
  for (let i = 0; i < PAIRING_CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

export function normalisePairingCode(input: string): string {
  return input.trim().toUpperCase().replace(/[\s-]/g, '');
}
