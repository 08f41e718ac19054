/**
 * The one table's shape, read by the CDK stack and by the local runtime so both build the
 * same thing. Plain data: no SDK or CDK types here.
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  dueIndex: {
    name: 'due',
    partitionKey: 'duePk',
    sortKey: 'dueSk',
    /**
     * Only what the fan-out filters on, puts in a job or delays a job by. A legacy claim writes
     * `lastSlot` and `lastSentAt` together: one index write. A Marketing Message claim writes
     * `claimedSlot`/`claimedSentAt` instead, which are not projected (no index write): for those
     * subscriptions the index keeps the pair of their last legacy-era send, older than the truth,
     * so the fan-out's filter passes all the true state passes and the sender's claim decides.
     * Fixed as deployed: a GSI's projection cannot change in place.
     */
    projectedAttributes: [
      'psid',
      'lastSlot',
      'lastSentAt',
      'activeSince',
      'tokenExpiresAt',
      'frequency',
    ],
  },
  /**
   * Every subscription of a Page, by topic then person, for operators' listings. Keys only:
   * the sender's per-send writes change no key, so they cost this index nothing.
   */
  pageIndex: {
    name: 'byPage',
    partitionKey: 'subPage',
    sortKey: 'subSort',
  },
} as const;

/** Write shards per (cadence, topic, zone) partition of the due index. */
export const DUE_SHARDS = 16;
