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
  /** The person is not available now (MM conversation gap): this slot is skipped. */
  | 'conversation-gap'
  /** Meta's marketing frequency caps (since April 2026): no retry of the person that day. */
  | 'frequency-cap'
  /** The MM campaign is inactive, populating, warming up or its pacing is not ready. */
  | 'campaign-not-ready'
  /** The ad account's budget, payment or spend limit stops MM sends for now. */
  | 'budget'
  /** Wrong Page for the token, terms not signed, or onboarding not finished. */
  | 'onboarding'
  /** The ad account's, Page's or person's region is not served by the MM API. */
  | 'region'
  /** The message or creative is not one Meta sends. */
  | 'message-invalid'
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
 * error as the reason), `rate-hold` stops them until Meta's rate limit lets go, `mm-hold`
 * holds its Marketing Message sends until the time Meta names or the policy's default.
 */
export type PageEffect = 'pause' | 'rate-hold' | 'mm-hold' | 'none';

/**
 * What an error does to the job's slot: `skip` gives it up (acknowledged, not a failure),
 * `fail` sends the job to the DLQ with the reason.
 */
export type SlotEffect = 'skip' | 'fail' | 'none';

/** One row of the table, as the callers read it. */
export interface MetaErrorEntry {
  outcome: MetaErrorOutcome;
  subscription: SubscriptionEffect;
  page: PageEffect;
  slot: SlotEffect;
  /**
   * The subscription effect reaches every subscription of the person that holds the token:
   * an MM token is per person and Page (META_PLATFORM.md section 4.1), and a dead token is
   * dead wherever it is held.
   */
  everyHolder: boolean;
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

const NO_EFFECT = {
  subscription: 'none',
  page: 'none',
  slot: 'none',
  everyHolder: false,
  transient: false,
} as const;

/** The MM API's numbers, which may arrive as the code or as a subcode under any code. */
function mm(...numbers: (number | [number, number])[]): string[] {
  return numbers
    .flatMap((entry) => {
      const [from, to] = typeof entry === 'number' ? [entry, entry] : entry;
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    })
    .flatMap((number) => [String(number), `any/${number}`]);
}

/**
 * The table (META_PLATFORM.md section 5). Branch on the subcode first: code 4 means both
 * "cooldown" and "rate limited"; the MM API's 23000xx numbers may come as the code or as a
 * subcode (under code 100 or any code). Add a row (or an error to a row) to teach Recurrent
 * a new error; a key listed twice for the same calls fails at start-up.
 */
const META_ERRORS: readonly MetaErrorRow[] = [
  { outcome: 'cooldown', errors: ['any/2018354', ...mm(2300035)], ...NO_EFFECT },
  {
    outcome: 'conversation-gap',
    errors: [...mm(2300036, 2300052), 'any/1893047', '1893047'],
    ...NO_EFFECT,
    slot: 'skip',
  },
  { outcome: 'frequency-cap', errors: mm([2300042, 2300044]), ...NO_EFFECT, slot: 'skip' },
  { outcome: 'stopped', errors: ['10/1893015'], ...NO_EFFECT, subscription: 'stopped' },
  {
    outcome: 'stopped',
    errors: mm(2300034),
    ...NO_EFFECT,
    subscription: 'stopped',
    everyHolder: true,
  },
  {
    outcome: 'invalid-token',
    errors: ['100', ...mm(2300004, 2300037)],
    ...NO_EFFECT,
    subscription: 'invalid',
    everyHolder: true,
  },
  {
    outcome: 'campaign-not-ready',
    errors: mm([2300000, 2300003], 2300012, 2300028, 2300041),
    ...NO_EFFECT,
    page: 'mm-hold',
  },
  {
    outcome: 'budget',
    errors: mm(2300007, 2300011, [2300015, 2300017], [2300053, 2300063]),
    ...NO_EFFECT,
    page: 'mm-hold',
  },
  {
    outcome: 'onboarding',
    errors: mm(2300005, 2300013, 2300019, [2300064, 2300067], 2300069),
    ...NO_EFFECT,
    page: 'pause',
  },
  { outcome: 'region', errors: mm([2300030, 2300032]), ...NO_EFFECT, slot: 'skip' },
  {
    outcome: 'message-invalid',
    errors: mm(2300018, [2300021, 2300027], 2300038, [2300046, 2300048], [2300070, 2300077]),
    ...NO_EFFECT,
    slot: 'fail',
  },
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
    // 2300080: token-list reads (META_PLATFORM.md section 6), answered to the reconcile.
    errors: ['4', '17', '32', '613', '80006', ...mm(2300078, 2300080)],
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
  /**
   * `error_data.remaining_seconds` in ms, when Meta names how long until a retry may succeed:
   * authoritative for every retry and hold time (META_PLATFORM.md section 5).
   */
  remainingMs?: number;
}

/** What came of one Graph call that is not a send. */
export type GraphCallResult<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'refused'; status: number; error?: GraphError }
  | { kind: 'unanswered'; requestLeft: boolean; cause: string };
