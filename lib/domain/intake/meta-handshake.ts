import { timingSafeEqual } from 'node:crypto';

/** The verification GET Meta sends when a webhook URL is configured. */
export interface HandshakeQuery {
  'hub.mode'?: string;
  'hub.verify_token'?: string;
  'hub.challenge'?: string;
}

/** Returns the challenge to echo when Meta's handshake carries our verify token, else undefined. */
export function answerHandshake(query: HandshakeQuery, verifyToken: string): string | undefined {
  const given = query['hub.verify_token'];
  const challenge = query['hub.challenge'];
  if (query['hub.mode'] !== 'subscribe' || given === undefined || challenge === undefined) {
    return undefined;
  }
  const a = Buffer.from(given);
  const b = Buffer.from(verifyToken);
  return a.length === b.length && timingSafeEqual(a, b) ? challenge : undefined;
}
