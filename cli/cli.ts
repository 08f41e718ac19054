import { parseArgs } from 'node:util';
import { type ApiAnswer, callAdminApi } from './admin-api.ts';
import {
  type CliIo,
  type Command,
  GLOBAL_OPTIONS,
  OPTIONS,
  type Option,
  UsageError,
  type Values,
} from './command.ts';
import { COMMANDS } from './commands.ts';

/** The usage text. */
export function usage(): string {
  const lines = [
    'Usage: recurrent <command> [options]',
    '',
    'Commands:',
    ...Object.values(COMMANDS).flatMap((command) => [
      `  ${command.usage}`,
      `      ${command.summary}`,
    ]),
    '',
    'Options for every command:',
    '  --url <url>       the API (default $RECURRENT_URL or http://localhost:3000); a deployed',
    '                    stack: its AdminBaseUrl output',
    '  --token <token>   bearer token for the local runtime (default $ADMIN_TOKEN)',
    '  --aws             sign requests with AWS SigV4 (automatic for execute-api URLs)',
    '  --region <region> the region to sign for (default: from the URL, else $AWS_REGION)',
    '  --json            print the API answer as JSON',
    '  -h, --help        this text',
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs one CLI invocation; answers the exit code (0 done, 1 refused or failed, 2 misused). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
  } catch (error: unknown) {
    return misuse(io, error instanceof Error ? error.message : String(error));
  }
  if (values.help || positionals.length === 0) {
    io.stdout(usage());
    return positionals.length === 0 && !values.help ? 2 : 0;
  }
  const [first = '', second = ''] = positionals;
  const name = COMMANDS[`${first} ${second}`] ? `${first} ${second}` : first;
  const command = COMMANDS[name];
  if (!command) return misuse(io, `unknown command: ${positionals.join(' ')}`);
  const args = positionals.slice(name.split(' ').length);
  const problem = checkArguments(command, name, values, args);
  if (problem) return misuse(io, problem);

  let answer: ApiAnswer;
  try {
    const call = await command.build(values, args, io);
    answer = await callAdminApi(call, values, io);
  } catch (error: unknown) {
    if (error instanceof UsageError) return misuse(io, error.message);
    io.stderr(`recurrent: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (!answer.ok) {
    if (command.unanswered) io.stderr(command.unanswered);
    return answer.exitCode;
  }
  const { body } = answer;
  const exitCode = command.exitCode?.(body) ?? 0;
  if (values.json) {
    io.stdout(`${JSON.stringify(body, null, 2)}\n`);
    return exitCode;
  }
  try {
    io.stdout(`${command.render(body, values)}\n`);
  } catch (error: unknown) {
    if (error instanceof UsageError) return misuse(io, error.message);
    io.stderr('recurrent: the answer was not what this version of the CLI expects; try --json\n');
    return 1;
  }
  return exitCode;
}

function checkArguments(
  command: Command,
  name: string,
  values: Values,
  args: readonly string[],
): string | undefined {
  const allowed = new Set<Option>([...GLOBAL_OPTIONS, ...command.options]);
  for (const [option, value] of Object.entries(values)) {
    if (value !== undefined && !allowed.has(option as Option)) {
      return `${name} takes no --${option}`;
    }
  }
  const expected = command.positionals ?? 0;
  if (args.length !== expected) {
    return expected === 0
      ? `${name} takes no argument ${JSON.stringify(args[0])}`
      : `${name} needs ${expected} argument${expected === 1 ? '' : 's'}: ${command.usage}`;
  }
  const missing = (command.required ?? []).filter((option) => values[option] === undefined);
  if (missing.length > 0) {
    return `${name} needs ${missing.map((option) => `--${option}`).join(' and ')}`;
  }
  return undefined;
}

function misuse(io: CliIo, message: string): number {
  io.stderr(`recurrent: ${message}\nRun recurrent --help for the commands.\n`);
  return 2;
}
