import { describe, expect, it } from 'vitest';
import { compareTopicPriority, type Topic } from '#lib/domain/topic.ts';

const aTopic = (topicId: string, fields: Partial<Topic> = {}) => ({
  topicId,
  cadence: 'DAILY' as const,
  ...fields,
});

describe('compareTopicPriority: the order a person’s topics get their one message per 12 h', () => {
  it.each([
    [
      'a higher priority first, whatever the cadence',
      aTopic('a', { priority: 1 }),
      aTopic('b', { cadence: 'MONTHLY' }),
    ],
    ['the rarer cadence first at equal priority', aTopic('b', { cadence: 'WEEKLY' }), aTopic('a')],
    [
      'MONTHLY before WEEKLY',
      aTopic('b', { cadence: 'MONTHLY' }),
      aTopic('a', { cadence: 'WEEKLY' }),
    ],
    [
      'the older topic first at equal priority and cadence',
      aTopic('b', { createdAt: 1 }),
      aTopic('a', { createdAt: 2 }),
    ],
    [
      'a topic saved before createdAt was kept as the oldest',
      aTopic('b'),
      aTopic('a', { createdAt: 1 }),
    ],
    [
      'the topic id last, so the order is total',
      aTopic('a', { createdAt: 1 }),
      aTopic('b', { createdAt: 1 }),
    ],
    [
      'an absent priority as 0',
      aTopic('b', { priority: 0, createdAt: 1 }),
      aTopic('a', { createdAt: 2 }),
    ],
  ])('puts %s', (_, first, second) => {
    expect(compareTopicPriority(first, second)).toBeLessThan(0);
    expect(compareTopicPriority(second, first)).toBeGreaterThan(0);
    expect([second, first].sort(compareTopicPriority)).toEqual([first, second]);
  });
});
