import { readFileSync } from 'node:fs';
import type { Page } from '#lib/domain/page.ts';
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

/** An active Page 1001 on the Send API route at 20/s in Europe/Paris, for unit tests. */
export function aPage(overrides: Partial<Page> = {}): Page {
  return {
    pageId: '1001',
    accessToken: 'page-token',
    deliveryRoute: 'send_api',
    ratePerSecond: 20,
    timezone: 'Europe/Paris',
    status: 'active',
    ...overrides,
  };
}
