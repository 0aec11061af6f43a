import { jidDecode } from '@whiskeysockets/baileys';

/** Servers whose jids carry a phone number as their user part. */
const PHONE_SERVERS = new Set(['s.whatsapp.net', 'c.us', 'hosted']);

/**
 * A person's id as owners, allowFrom and allowSenders write it (after `whatsapp:`): the bare
 * phone number, country code first (4915123456789), whenever one of the jids is a phone-number
 * jid; otherwise the LID without its device suffix (123456789012345@lid). Baileys 7 gives a
 * LID-addressed message's phone-number jid as key.participantAlt / key.remoteJidAlt when known.
 */
export function personId(jid: string | null | undefined, altJid?: string | null): string {
  const decoded = [jid, altJid].map((j) => jidDecode(j ?? undefined));
  const phone = decoded.find((who) => who !== undefined && PHONE_SERVERS.has(who.server));
  if (phone) return phone.user;
  const other = decoded.find((who) => who !== undefined);
  return other ? `${other.user}@${other.server}` : (jid ?? '');
}
