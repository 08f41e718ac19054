import type { DeliveryRoute } from '../domain/page.ts';

/** The attributes a claim on one route stores its slot and its send time in. */
export interface ClaimPair {
  slot: 'lastSlot' | 'claimedSlot';
  sentAt: 'lastSentAt' | 'claimedSentAt';
}

/**
 * Where each route's claim is stored on the subscription item. The legacy route keeps the pair
 * the `due` index projects: there the fan-out's `lastSlot` filter drops whole jobs (a DAILY
 * topic on the 48 h route sends every second day). A Marketing Message claim (12 h, one slot
 * per period: the filter drops almost nothing) writes a pair the index does not project, so it
 * costs one write unit instead of two; the projection of a deployed index cannot change.
 */
export const CLAIM_PAIRS: Record<DeliveryRoute, ClaimPair> = {
  send_api: { slot: 'lastSlot', sentAt: 'lastSentAt' },
  marketing_messages: { slot: 'claimedSlot', sentAt: 'claimedSentAt' },
};

/** Both pairs as a stored subscription item may hold them. */
export interface StoredClaims {
  lastSlot?: number;
  lastSentAt?: number;
  claimedSlot?: number;
  claimedSentAt?: number;
}

/**
 * The subscription's last claim, as the domain reads `lastSlot`/`lastSentAt`: the pair with the
 * later slot (a claim only ever takes a later slot than the last, or its own again), the later
 * send time on a tie. Items written before the Marketing Message pair existed hold only the
 * projected one, which then is the answer.
 */
export function newestClaim(item: StoredClaims): { lastSlot?: number; lastSentAt?: number } {
  const { lastSlot, claimedSlot } = item;
  const claimedIsNewer =
    claimedSlot !== undefined &&
    (lastSlot === undefined ||
      claimedSlot > lastSlot ||
      (claimedSlot === lastSlot && (item.claimedSentAt ?? 0) >= (item.lastSentAt ?? 0)));
  const slot = claimedIsNewer ? claimedSlot : lastSlot;
  const sentAt = claimedIsNewer ? item.claimedSentAt : item.lastSentAt;
  return {
    ...(slot !== undefined && { lastSlot: slot }),
    ...(sentAt !== undefined && { lastSentAt: sentAt }),
  };
}

/**
 * The claim's condition over both pairs, for `dynamoSendStore.claim`: active, and the newer
 * slot is absent or below `:threshold`, or is `:slot` claimed by `:claimant` (a receive that
 * crashed before finishing). "The newer slot is below" is "each slot is absent or below";
 * "the newer slot is `:slot`" is "one of them is, and neither is later".
 */
export const CLAIM_CONDITION = [
  '#status = :active AND (',
  '((attribute_not_exists(lastSlot) OR lastSlot < :threshold) AND (attribute_not_exists(claimedSlot) OR claimedSlot < :threshold))',
  ' OR (claimedBy = :claimant AND (lastSlot = :slot OR claimedSlot = :slot)',
  ' AND (attribute_not_exists(lastSlot) OR lastSlot <= :slot) AND (attribute_not_exists(claimedSlot) OR claimedSlot <= :slot)))',
].join('');
