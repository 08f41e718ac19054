/**
 * What a command is: the options it may take (every command's, typed once), the world it
 * touches, the API call it makes and how it prints the answer.
 */

export const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  aws: { type: 'boolean' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'access-token': { type: 'string' },
  route: { type: 'string' },
  'ad-account': { type: 'string' },
  campaign: { type: 'string' },
  rate: { type: 'string' },
  timezone: { type: 'string' },
  status: { type: 'string' },
  file: { type: 'string' },
  id: { type: 'string' },
  reindex: { type: 'boolean' },
  priority: { type: 'string' },
  page: { type: 'string' },
  topic: { type: 'string' },
  psid: { type: 'string' },
  cta: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  cadence: { type: 'string' },
  at: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  counter: { type: 'string' },
  'default-topic': { type: 'string' },
  date: { type: 'string' },
  text: { type: 'string' },
  month: { type: 'string' },
  'content-url': { type: 'string' },
  time: { type: 'string' },
  now: { type: 'boolean' },
} as const;

export type Option = keyof typeof OPTIONS;

/** The parsed options, typed from OPTIONS. */
export type Values = {
  [K in Option]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

/** The options every command takes: where the API is, how to authenticate, how to print. */
export const GLOBAL_OPTIONS: readonly Option[] = ['url', 'token', 'aws', 'region', 'json', 'help'];

/** What the CLI touches of the outside world; tests hand in their own. */
export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
}

/** One API request a command makes. */
export interface ApiCall {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
}

/** One command: its usage, what it sends, and how it prints the answer. */
export interface Command {
  usage: string;
  summary: string;
  options: readonly Option[];
  required?: readonly Option[];
  /** Positional arguments after the command words. */
  positionals?: number;
  build(values: Values, positionals: readonly string[], io: CliIo): Promise<ApiCall> | ApiCall;
  render(body: unknown, values: Values): string;
  /** The exit code of an answer, when an answer can itself report a failure; else 0. */
  exitCode?(body: unknown): number;
  /** Printed on stderr, after the reason, when the call gets no successful answer. */
  unanswered?: string;
}

/** A problem with how the CLI was called: exit code 2, with the usage. */
export class UsageError extends Error {}

/** A request body without the options that were not given. */
export function withoutUndefined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** Whole numbers go as numbers; anything else as typed, for the API to name the problem. */
export function numberOrText(value: string | undefined): number | string | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : value;
}
