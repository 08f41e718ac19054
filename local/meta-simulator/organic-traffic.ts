/**
 * The conversations people have on Messenger apart from marketing messages: a seeded,
 * deterministic model on the virtual clock. Meta's frequency caps (META_PLATFORM.md 4.3) are
 * computed from them, and caps count across all businesses: a person's conversations are mostly
 * with others than the Page (a `pageShare` of them with it), and other businesses send them
 * marketing messages too (`othersMarketingPerDay`); no sender can see those.
 */

const DAY_MS = 24 * 3_600_000;

/** How much people talk; each person's own rate is drawn from `seed` and their PSID. */
export interface OrganicTrafficOptions {
  seed: number;
  /** Organic conversations a day of the quietest person; default 0.5. */
  minPerDay?: number;
  /** ...and of the chattiest; default 12. Rates spread evenly in between. */
  maxPerDay?: number;
  /** Share of people with no organic conversation at all (exempt from the caps); default 0.02. */
  silentShare?: number;
  /**
   * Share of a person's conversations held with the Page they are a person of: each is a
   * `messages` webhook to it (`organic-messages.ts`); default 0, all with other businesses.
   */
  pageShare?: number;
  /** Marketing messages a day each person gets from other businesses (the caps count them); default 0. */
  othersMarketingPerDay?: number;
}

/** Salts of the draws apart from the conversations: which are with the Page, others' marketing. */
const PAGE_SALT = 0x2f6b;
const OTHERS_SALT = 0x51ed;

export type OrganicTraffic = ReturnType<typeof createOrganicTraffic>;

/** The model: the instants of a person's organic conversations, the same for the same seed. */
export function createOrganicTraffic(options: OrganicTrafficOptions) {
  const min = options.minPerDay ?? 0.5;
  const max = options.maxPerDay ?? 12;
  const silent = options.silentShare ?? 0.02;
  const rates = new Map<string, number>();

  function rateOf(person: string): number {
    let rate = rates.get(person);
    if (rate === undefined) {
      const draw = unit(options.seed, person, -1);
      rate = draw < silent ? 0 : min + ((draw - silent) / (1 - silent)) * (max - min);
      rates.set(person, rate);
    }
    return rate;
  }

  const pageShare = options.pageShare ?? 0;
  const others = options.othersMarketingPerDay ?? 0;

  /** Instants of one UTC day at `rate` a day, in order: whole ones, then a chance of one more. */
  function ofDay(person: string, day: number, rate: number, seed: number): number[] {
    const count = Math.floor(rate) + (unit(seed, person, day * 2) < rate % 1 ? 1 : 0);
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      times.push(day * DAY_MS + Math.floor(unit(seed, person, day * 64 + i + 1) * DAY_MS));
    }
    return times.sort((a, b) => a - b);
  }

  /** The instants in (from, to], oldest first, of a per-day draw. */
  function within(from: number, to: number, draw: (day: number) => number[]): number[] {
    const found: number[] = [];
    for (let day = Math.floor(from / DAY_MS); day <= Math.floor(to / DAY_MS); day++) {
      for (const at of draw(day)) if (at > from && at <= to) found.push(at);
    }
    return found;
  }

  const between = (person: string, from: number, to: number) =>
    within(from, to, (day) => ofDay(person, day, rateOf(person), options.seed));

  return {
    /** Conversations a day the person has on average. */
    rateOf,
    /** The person's conversations in (from, to], oldest first. */
    between,
    /** Those of them held with the person's Page: the ones a `messages` webhook tells it of. */
    withPageBetween(person: string, from: number, to: number): number[] {
      if (pageShare <= 0) return [];
      return between(person, from, to).filter(
        (at) => unit(options.seed ^ PAGE_SALT, person, at % 0x7fff_ffff) < pageShare,
      );
    },
    /** Marketing messages other businesses sent the person in (from, to], oldest first. */
    othersMarketingBetween(person: string, from: number, to: number): number[] {
      if (others <= 0) return [];
      return within(from, to, (day) => ofDay(person, day, others, options.seed ^ OTHERS_SALT));
    },
  };
}

/** A number in [0, 1) from the seed, the person and a counter: a small integer hash (FNV-1a, then a mix). */
function unit(seed: number, person: string, counter: number): number {
  let hash = 0x811c9dc5 ^ seed;
  for (let i = 0; i < person.length; i++) {
    hash = Math.imul(hash ^ person.charCodeAt(i), 0x01000193);
  }
  hash = Math.imul(hash ^ counter, 0x9e3779b1);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x1_0000_0000;
}
