import { describe, expect, it } from 'vitest';
import { createFaults } from '../../../../local/meta-simulator/faults.ts';

describe('injected errors', () => {
  it('answers a token its error the given number of times, and other tokens nothing', () => {
    const faults = createFaults({
      initial: { errors: [{ token: 'tok-y', code: 10, subcode: 1893015, times: 1 }] },
    });

    expect(faults.takeError({ route: 'send_api', token: 'tok-x' })).toBeUndefined();
    expect(faults.takeError({ route: 'send_api', token: 'tok-y' })).toMatchObject({
      status: 400,
      code: 10,
      subcode: 1893015,
      type: 'OAuthException',
      reason: 'injected',
    });
    expect(faults.takeError({ route: 'send_api', token: 'tok-y' })).toBeUndefined();
  });

  it('keeps a rule without a count until it is replaced', () => {
    const faults = createFaults({});
    faults.addError({ token: 'tok-x', code: 100 });

    expect(faults.takeError({ route: 'send_api', token: 'tok-x' })?.code).toBe(100);
    expect(faults.takeError({ route: 'send_api', token: 'tok-x' })?.code).toBe(100);

    faults.update({ errors: [] });
    expect(faults.takeError({ route: 'send_api', token: 'tok-x' })).toBeUndefined();
  });

  it('answers transient codes with HTTP 500 and is_transient', () => {
    const faults = createFaults({ initial: { errors: [{ pageId: '1001', code: 2 }] } });

    expect(faults.takeError({ route: 'optin_request', pageId: '1001' })).toMatchObject({
      status: 500,
      isTransient: true,
    });
  });
});

describe('rate-limit bursts', () => {
  it('covers the next N calls of the Page it names', () => {
    const faults = createFaults({});
    faults.addBurst({ pageId: '1001', calls: 2, regainMinutes: 3 });

    expect(faults.takeBurst('2002')).toBeUndefined();
    expect(faults.takeBurst('1001')).toEqual({ regainMinutes: 3 });
    expect(faults.takeBurst('1001')).toEqual({ regainMinutes: 3 });
    expect(faults.takeBurst('1001')).toBeUndefined();
  });

  it('covers every Page for T ms of real time', () => {
    let now = 0;
    const faults = createFaults({ realNow: () => now });
    faults.addBurst({ forMs: 500, code: 80006 });

    now = 499;
    expect(faults.takeBurst('1001')).toEqual({ regainMinutes: 1, code: 80006 });
    now = 500;
    expect(faults.takeBurst('1001')).toBeUndefined();
  });

  it('needs a number of calls or a duration', () => {
    expect(() => createFaults({}).addBurst({ pageId: '1001' })).toThrow(RangeError);
  });
});

describe('random faults', () => {
  it('fails a call with a 5xx as often as the rate says', () => {
    let next = 0.4;
    const faults = createFaults({ random: () => next, initial: { serverErrorRate: 0.5 } });

    expect(faults.draw('send_api')).toBe('server_error');
    next = 0.6;
    expect(faults.draw('send_api')).toBeUndefined();
  });

  it('hangs a call before it considers a 5xx', () => {
    const faults = createFaults({
      random: () => 0,
      initial: { timeoutRate: 0.1, serverErrorRate: 1 },
    });

    expect(faults.draw('marketing_messages')).toBe('timeout');
  });

  it('spares the routes left out of the filter', () => {
    const faults = createFaults({
      random: () => 0,
      initial: { serverErrorRate: 1, latencyMs: 50, routes: ['send_api'] },
    });

    expect(faults.draw('optin_request')).toBeUndefined();
    expect(faults.latency('optin_request')).toBe(0);
    expect(faults.latency('send_api')).toBe(50);
  });

  it('changes at run time', () => {
    const faults = createFaults({ random: () => 0 });
    expect(faults.draw('send_api')).toBeUndefined();

    faults.update({ serverErrorRate: 1, serverErrorStatus: 503 });

    expect(faults.draw('send_api')).toBe('server_error');
    expect(faults.serverErrorStatus()).toBe(503);
  });
});
