import { readFileSync } from 'node:fs';

/** The exact bytes of a fixture under test/fixtures. */
export function fixtureText(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}
