import { readFileSync } from 'node:fs';
import type { Topic } from '#lib/domain/topic.ts';

/** The exact bytes of a fixture under test/fixtures. */
export function fixtureText(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

/** A DAILY 09:00 topic of Page 1001, for unit tests of what reads topics. */
export function aTopic(overrides: Partial<Topic> = {}): Topic {
  return {
    pageId: '1001',
    topicId: 'deals',
    title: 'Deals',
    cadence: 'DAILY',
    sendTime: '09:00',
    message: { text: 'Our deals' },
    ...overrides,
  };
}
