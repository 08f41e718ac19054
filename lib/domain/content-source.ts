import { createHmac } from 'node:crypto';

/** The header a content source request is signed in: `sha256=<hex HMAC-SHA256 of the body>`. */
export const CONTENT_SIGNATURE_HEADER = 'x-recurrent-signature';

/** Logged once per (topic, date) whose source gave no usable answer: the alarm counts it. */
export const CONTENT_SOURCE_FAILED_LOG_MESSAGE = 'content source failed';

/** The longest `contentUrl` stored. */
export const CONTENT_URL_MAX_CHARS = 2048;

/** Whether a plain-http source is allowed: only on loopback, and only where the runtime allows it. */
export interface ContentUrlPolicy {
  allowLoopbackHttp: boolean;
}

/** Names one topic's content source secret. */
export interface ContentSecretKey {
  pageId: string;
  topicId: string;
}

/**
 * Each topic's secret its content source requests are signed with. Readable by the fan-out,
 * never by an admin read: the admin API shows a secret only in the answer that made it.
 */
export interface ContentSecretStore {
  /** Makes a new secret for the topic, replacing any earlier one, and returns it. */
  rotate(key: ContentSecretKey): Promise<string>;
  /** The topic's current secret, or undefined when it has none. */
  get(key: ContentSecretKey): Promise<string | undefined>;
}

/** The body the fan-out POSTs to a topic's content source for one local date. */
export interface ContentRequest {
  pageId: string;
  topicId: string;
  date: string;
  cadence: string;
}

/** The signature header's value for a body: `sha256=` and the hex HMAC-SHA256 with the secret. */
export function signContentBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * Why `value` cannot be a topic's `contentUrl`, as `contentUrl: <reason>`, or undefined: an
 * absolute https URL without credentials in it; plain http only to a loopback host and only
 * where the policy allows it (the local runtime), never on a deployed stack.
 */
export function contentUrlProblem(value: string, policy: ContentUrlPolicy): string | undefined {
  if (value.length > CONTENT_URL_MAX_CHARS)
    return `contentUrl: at most ${CONTENT_URL_MAX_CHARS} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'contentUrl: must be an absolute https:// URL';
  }
  // The URL is shown by every topic read: a password in it would be a secret shown again.
  if (url.username !== '' || url.password !== '')
    return 'contentUrl: must not carry a user name or password';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return 'contentUrl: must be an https:// URL';
  if (!isLoopbackHost(url.hostname))
    return 'contentUrl: must be https:// (plain http only to a loopback host, locally)';
  if (!policy.allowLoopbackHttp)
    return 'contentUrl: must be https:// (plain http to a loopback host only in the local runtime)';
  return undefined;
}

/** localhost, 127.0.0.0/8 and ::1: hosts that never leave the machine. */
function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
