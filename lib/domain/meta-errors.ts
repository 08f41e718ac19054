/**
 * Meta Graph errors turned into what Recurrent does about them (META_PLATFORM.md section 5).
 * Branch on the subcode first: code 4 means both "cooldown" and "rate limited".
 */
export type MetaErrorOutcome =
  | 'cooldown'
  | 'rate-limited'
  | 'stopped'
  | 'invalid-token'
  | 'unreachable'
  | 'transient'
  | 'page-token-invalid'
  | 'page-restricted'
  | 'page-permission'
  | 'unknown';

export interface MetaErrorFields {
  code: number;
  subcode?: number;
}

const COOLDOWN_SUBCODES = new Set([2018354, 2300052]);
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80006]);
const UNREACHABLE = new Set(['551', '200/1545041', '10/2018108']);

/** Classifies one Graph error by code and subcode. */
export function classifyMetaError({ code, subcode }: MetaErrorFields): MetaErrorOutcome {
  if (subcode !== undefined && COOLDOWN_SUBCODES.has(subcode)) return 'cooldown';
  if (code === 2300052) return 'cooldown';
  if (code === 10 && subcode === 1893015) return 'stopped';
  if (UNREACHABLE.has(String(code)) || UNREACHABLE.has(`${code}/${subcode}`)) return 'unreachable';
  if (code === 10 && subcode === 1893063) return 'page-restricted';
  if (code === 368) return 'page-restricted';
  if (code === 190) return 'page-token-invalid';
  if (code === 200) return 'page-permission';
  if (code === 100) return 'invalid-token';
  if (RATE_LIMIT_CODES.has(code)) return 'rate-limited';
  if (code === 1 || code === 2) return 'transient';
  return 'unknown';
}

/** A Graph error body (`{"error":{...}}`), read at the edge. */
export interface GraphError {
  code: number;
  subcode?: number;
  type?: string;
  message?: string;
  fbtraceId?: string;
  /** When Meta says when the token may be used again (epoch ms), if it does. */
  nextEligibleAt?: number;
}

/** What came of one Graph call that is not a send. */
export type GraphCallResult<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'refused'; status: number; error?: GraphError }
  | { kind: 'unanswered'; requestLeft: boolean; cause: string };
