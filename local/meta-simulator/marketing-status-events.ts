import type { GraphErrorSpec } from './graph-errors.ts';
import { type MarketingSendFacts, marketingEvent } from './meta-events.ts';
import type { ModelState } from './model-state.ts';

/**
 * The status webhooks of a marketing send, each a delay after the one before: an echo (when
 * enabled), then delivered, maybe read and maybe clicked; or failed.
 */
export function emitMarketingStatus(
  state: ModelState,
  send: MarketingSendFacts,
  sentAt: number,
  failure: GraphErrorSpec | undefined,
) {
  const { emit, statusDelayMs, statusShape } = state;
  if (state.echoes) emit(marketingEvent('echo', send, sentAt, statusShape));
  const deliveredAt = sentAt + statusDelayMs;
  if (failure) {
    emit(marketingEvent('failed', send, deliveredAt, statusShape, failure.message));
    return;
  }
  emit(marketingEvent('delivery', send, deliveredAt, statusShape));
  if (state.random() >= state.readProbability) return;
  emit(marketingEvent('read', send, deliveredAt + statusDelayMs, statusShape));
  // No draw when clicks are off, so seeded runs see the chances they saw before.
  if (state.clickProbability > 0 && state.random() < state.clickProbability) {
    emit(marketingEvent('click', send, deliveredAt + 2 * statusDelayMs, statusShape));
  }
}
