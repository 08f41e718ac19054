import { randomBytes, randomInt } from 'node:crypto';

/** A Graph-style numeric id (PSID, campaign id, tracking id) of `digits` digits. */
export function numericId(digits: number): string {
  let id = String(randomInt(1, 10));
  while (id.length < digits) id += String(randomInt(0, 10));
  return id;
}

/** A Send API message id: `m_` and URL-safe characters. */
export function messageId(): string {
  return `m_${randomBytes(24).toString('base64url')}`;
}

/** A notification_messages token; URL-safe characters, `-` and `_` included. */
export function newToken(): string {
  return randomBytes(30).toString('base64url');
}

/** A Graph trace id: 11 characters of URL-safe base64, like Meta's. */
export function newTraceId(): string {
  return randomBytes(9).toString('base64url').slice(0, 11);
}
