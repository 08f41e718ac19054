import { describe, expect, it } from 'vitest';
import { createArrivalClock } from '../../../../local/meta-simulator/arrival-front.ts';

describe('the arrival clock', () => {
  it('reads the time a call arrived while it is decided, and the time now otherwise', () => {
    const arrival = createArrivalClock(() => 50_000);

    expect(arrival.now()).toBe(50_000);
    expect(arrival.asOf(120, () => arrival.now())).toBe(49_880);
    expect(arrival.now()).toBe(50_000);
  });

  it('scales the age by how fast the rate limits’ time runs', () => {
    const arrival = createArrivalClock(() => 50_000, 10);

    expect(arrival.asOf(120, () => arrival.now())).toBe(48_800);
  });

  it('reads the time now again when deciding throws', () => {
    const arrival = createArrivalClock(() => 50_000);

    expect(() =>
      arrival.asOf(120, () => {
        throw new Error('refused');
      }),
    ).toThrow('refused');
    expect(arrival.now()).toBe(50_000);
  });
});
