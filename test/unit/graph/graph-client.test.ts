import { describe, expect, it } from 'vitest';
import { graphErrorOf, httpRequestFor, optInRequestFor } from '#lib/graph/graph-client.ts';
import { parseUsageHeaders } from '#lib/graph/usage-headers.ts';

const headers = (values: Record<string, string>) => new Headers(values);

describe('parseUsageHeaders', () => {
  it('reads the highest percentage of X-App-Usage', () => {
    const usage = parseUsageHeaders(
      headers({ 'X-App-Usage': '{"call_count":28,"total_time":91,"total_cputime":12}' }),
    );

    expect(usage).toEqual({ percent: 91, regainAccessMs: 0 });
  });

  it('reads every business and entry of X-Business-Use-Case-Usage, with the wait in minutes', () => {
    const usage = parseUsageHeaders(
      headers({
        'X-Business-Use-Case-Usage': JSON.stringify({
          '1001': [
            {
              type: 'pages',
              call_count: 40,
              total_cputime: 5,
              total_time: 5,
              estimated_time_to_regain_access: 0,
            },
          ],
          '2002': [
            {
              type: 'messenger',
              call_count: '100',
              total_cputime: 9,
              total_time: 9,
              estimated_time_to_regain_access: 7,
            },
          ],
        }),
        'X-App-Usage': '{"call_count":3,"total_time":3,"total_cputime":3}',
      }),
    );

    expect(usage).toEqual({ percent: 100, regainAccessMs: 7 * 60_000 });
  });

  it('says nothing when no usage header came or one is malformed', () => {
    expect(parseUsageHeaders(headers({}))).toBeUndefined();
    expect(parseUsageHeaders(headers({ 'X-App-Usage': '{call_count: 99' }))).toBeUndefined();
    expect(parseUsageHeaders(headers({ 'X-Business-Use-Case-Usage': '[1,2]' }))).toBeUndefined();
  });
});

describe('graphErrorOf', () => {
  it("reads Meta's error object with its subcode and fbtrace_id", () => {
    const error = graphErrorOf({
      error: {
        message: '(#4) too early',
        type: 'OAuthException',
        code: 4,
        error_subcode: 2018354,
        fbtrace_id: 'AbC123',
      },
    });

    expect(error).toEqual({
      code: 4,
      subcode: 2018354,
      type: 'OAuthException',
      message: '(#4) too early',
      fbtraceId: 'AbC123',
    });
  });

  it('takes a next eligible time in seconds or in milliseconds', () => {
    const seconds = graphErrorOf({
      error: { code: 4, error_data: { next_eligible_time: 1_790_000_000 } },
    });
    const millis = graphErrorOf({
      error: { code: 4, error_data: { next_eligible_time: 1_790_000_000_000 } },
    });

    expect(seconds?.nextEligibleAt).toBe(1_790_000_000_000);
    expect(millis?.nextEligibleAt).toBe(1_790_000_000_000);
  });

  it('reads error_data.remaining_seconds as milliseconds', () => {
    const error = graphErrorOf({
      error: { code: 100, error_subcode: 2300002, error_data: { remaining_seconds: 1_800 } },
    });
    const without = graphErrorOf({ error: { code: 100, error_data: { remaining_seconds: 'x' } } });

    expect(error).toMatchObject({ code: 100, subcode: 2300002, remainingMs: 1_800_000 });
    expect(without?.remainingMs).toBeUndefined();
  });

  it('is undefined for a body that is not an error', () => {
    expect(graphErrorOf('bad gateway')).toBeUndefined();
    expect(graphErrorOf({ error: { message: 'no code' } })).toBeUndefined();
  });
});

describe('httpRequestFor', () => {
  it('puts the Page token only in the legacy URL and the system-user token only in a header', () => {
    const legacy = httpRequestFor('https://graph.test/v24.0', {
      route: 'send_api',
      pageId: '1001',
      accessToken: 'page token',
      token: 'T',
      message: { text: 'hi' },
    });
    const marketing = httpRequestFor('https://graph.test/v24.0', {
      route: 'marketing_messages',
      adAccountId: '77',
      campaignId: 'c',
      accessToken: 'system',
      token: 'T',
      message: { text: 'hi' },
    });

    expect(legacy.url).toBe('https://graph.test/v24.0/1001/messages?access_token=page%20token');
    expect(legacy.headers).toEqual({});
    expect(marketing.url).toBe('https://graph.test/v24.0/act_77/messages');
    expect(marketing.headers).toEqual({ authorization: 'Bearer system' });
  });
});

describe('the opt-in template request', () => {
  it("is Meta's documented shape, addressed to the PSID, re-opt-in enabled", () => {
    const request = optInRequestFor('https://graph.test/v24.0', {
      pageId: '1001',
      accessToken: 'page token',
      psid: '5001',
      template: {
        title: 'Daily deals',
        payload: 'daily-deals',
        ctaText: 'GET_UPDATES',
        timezone: 'Europe/Paris',
      },
    });

    expect(request).toEqual({
      url: 'https://graph.test/v24.0/1001/messages?access_token=page%20token',
      body: {
        recipient: { id: '5001' },
        message: {
          attachment: {
            type: 'template',
            payload: {
              template_type: 'notification_messages',
              title: 'Daily deals',
              payload: 'daily-deals',
              notification_messages_cta_text: 'GET_UPDATES',
              notification_messages_timezone: 'Europe/Paris',
              notification_messages_reoptin: 'ENABLED',
            },
          },
        },
      },
    });
  });
});
