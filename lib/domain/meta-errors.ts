/**
 * What each Meta Graph error does, in one table (META_PLATFORM.md section 5): to the
 * subscription the call was for, to its Page, and whether a retry may help. The sender, the
 * intake of marketing delivery failures and the admin API all read it.
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
  /** The person has not written to the Page in the last 24 hours (opt-in request). */
  | 'outside-window'
  /** One opt-in request per title per person per 7 days. */
  | 'opt-in-too-soon'
  /** Too many opt-in requests from this Page for now. */
  | 'opt-in-rate-limited'
  /** Meta bars this Page from sending opt-in requests. */
  | 'page-barred'
  /** Meta knows no such person on this Page. */
  | 'person-unknown'
  | 'unknown';

/** What an error does to the subscription the call was for. */
export type SubscriptionEffect = 'stopped' | 'invalid' | 'unreachable' | 'none';

/**
 * What an error does to the Page: `pause` stops its sends until an operator acts (with the
 * error as the reason), `rate-hold` stops them until Meta's rate limit lets go.
 */
export type PageEffect = 'pause' | 'rate-hold' | 'none';

/** One row of the table, as the callers read it. */
export interface MetaErrorEntry {
  outcome: MetaErrorOutcome;
  subscription: SubscriptionEffect;
  page: PageEffect;
  /** Meta had a bad moment: a bounded retry with backoff may succeed. */
  transient: boolean;
}

/**
 * The calls an error is read for: a send, or one of the admin API's calls (opt-in requests,
 * the token list), which know a few errors of their own.
 */
export type MetaCall = 'send' | 'admin';

export interface MetaErrorFields {
  code: number;
  subcode?: number;
}

interface MetaErrorRow extends MetaErrorEntry {
  /**
   * The errors of this row: `code` (any subcode), `code/subcode`, or `any/subcode` (that subcode
   * under any code). The most specific match wins: `code/subcode`, then `any/subcode`, then `code`.
   */
  errors: readonly string[];
  /** Read only for these calls; every call when absent. */
  only?: MetaCall;
}

const NO_EFFECT = { subscription: 'none', page: 'none', transient: false } as const;

/**
 * The table. Branch on the subcode first: code 4 means both "cooldown" and "rate limited";
 * 2300052 may come as the code or as a subcode. Add a row (or an error to a row) to teach
 * Recurrent a new error; a key listed twice for the same calls fails at start-up.
 */
const META_ERRORS: readonly MetaErrorRow[] = [
  { outcome: 'cooldown', errors: ['any/2018354', 'any/2300052', '2300052'], ...NO_EFFECT },
  { outcome: 'stopped', errors: ['10/1893015'], ...NO_EFFECT, subscription: 'stopped' },
  { outcome: 'invalid-token', errors: ['100'], ...NO_EFFECT, subscription: 'invalid' },
  {
    outcome: 'unreachable',
    errors: ['551', '200/1545041', '10/2018108'],
    ...NO_EFFECT,
    subscription: 'unreachable',
  },
  { outcome: 'page-token-invalid', errors: ['190'], ...NO_EFFECT, page: 'pause' },
  { outcome: 'page-restricted', errors: ['10/1893063', '368'], ...NO_EFFECT, page: 'pause' },
  { outcome: 'page-permission', errors: ['200'], ...NO_EFFECT, page: 'pause' },
  {
    outcome: 'rate-limited',
    errors: ['4', '17', '32', '613', '80006'],
    ...NO_EFFECT,
    page: 'rate-hold',
  },
  { outcome: 'transient', errors: ['1', '2'], ...NO_EFFECT, transient: true },
  // The opt-in request's own errors (META_PLATFORM.md section 2), read on the admin API's calls.
  { outcome: 'outside-window', errors: ['10/2534022', '10/2018278'], ...NO_EFFECT, only: 'admin' },
  { outcome: 'opt-in-too-soon', errors: ['613/1893016'], ...NO_EFFECT, only: 'admin' },
  { outcome: 'opt-in-rate-limited', errors: ['9/2018352'], ...NO_EFFECT, only: 'admin' },
  { outcome: 'page-barred', errors: ['10/1404170'], ...NO_EFFECT, only: 'admin' },
  { outcome: 'person-unknown', errors: ['100/2018001'], ...NO_EFFECT, only: 'admin' },
];

const UNKNOWN: MetaErrorEntry = { outcome: 'unknown', ...NO_EFFECT };
/** A 5xx that names no known error: Meta having a bad moment. */
const SERVER_ERROR: MetaErrorEntry = { outcome: 'transient', ...NO_EFFECT, transient: true };

type Index = Map<string, MetaErrorEntry>;

function indexOf(rows: readonly MetaErrorRow[]): Index {
  const index: Index = new Map();
  for (const { errors, only: _only, ...entry } of rows) {
    for (const key of errors) {
      if (index.has(key)) throw new Error(`Meta error ${key} is listed twice`);
      index.set(key, entry);
    }
  }
  return index;
}

const EVERY_CALL = indexOf(META_ERRORS.filter((row) => row.only === undefined));
const OWN_ERRORS: Record<MetaCall, Index> = {
  send: indexOf(META_ERRORS.filter((row) => row.only === 'send')),
  admin: indexOf(META_ERRORS.filter((row) => row.only === 'admin')),
};

function lookUp(index: Index, { code, subcode }: MetaErrorFields): MetaErrorEntry | undefined {
  return (
    (subcode === undefined
      ? undefined
      : (index.get(`${code}/${subcode}`) ?? index.get(`any/${subcode}`))) ?? index.get(String(code))
  );
}

/** What one Graph error does, on a call of the kind given (a send unless said otherwise). */
export function metaErrorFor(error: MetaErrorFields, call: MetaCall = 'send'): MetaErrorEntry {
  return lookUp(OWN_ERRORS[call], error) ?? lookUp(EVERY_CALL, error) ?? UNKNOWN;
}

/** What an HTTP error answer to a send does: its error's row, and a bare 5xx is transient. */
export function metaRefusalFor(status: number, error: MetaErrorFields | undefined): MetaErrorEntry {
  const entry = error ? metaErrorFor(error) : UNKNOWN;
  return entry.outcome === 'unknown' && status >= 500 ? SERVER_ERROR : entry;
}

/** Classifies one Graph error on a send by code and subcode. */
export function classifyMetaError(error: MetaErrorFields): MetaErrorOutcome {
  return metaErrorFor(error).outcome;
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
