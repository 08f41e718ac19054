import { InvalidInputError } from '../errors.ts';
import type { Page } from '../page.ts';
import type { Topic } from '../topic.ts';
import { describeQuietHours, isQuietMinute, minutesOf, quietHoursFor } from './quiet-hours.ts';

/**
 * Refuses a topic whose own send time is inside the quiet hours that hold for it: every one of
 * its sends would be skipped. Checked before anything is written.
 */
export function refuseQuietSendTime(
  page: Pick<Page, 'quietHours'>,
  topic: Pick<Topic, 'sendTime' | 'quietHours' | 'topicId'>,
): void {
  const window = quietHoursFor(page, topic);
  if (!isQuietMinute(minutesOf(topic.sendTime), window)) return;
  const whose = topic.quietHours ? "the topic's" : page.quietHours ? "the Page's" : 'the default';
  throw new InvalidInputError(
    `sendTime: ${topic.sendTime} is inside ${whose} quiet hours ${describeQuietHours(window)}, when nothing is sent; choose another time or set quietHours`,
  );
}

/** The first of a Page's topics (without quiet hours of their own) that `quietHours` would silence. */
export function topicSilencedBy(
  page: Pick<Page, 'quietHours'>,
  topics: readonly Pick<Topic, 'sendTime' | 'quietHours' | 'topicId'>[],
): Pick<Topic, 'sendTime' | 'topicId'> | undefined {
  return topics.find((topic) =>
    isQuietMinute(minutesOf(topic.sendTime), quietHoursFor(page, topic)),
  );
}
