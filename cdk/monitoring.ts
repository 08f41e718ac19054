import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CONTENT_SOURCE_FAILED_LOG_MESSAGE } from '#lib/domain/content-source.ts';
import {
  COUNTED_METRICS,
  PAGE_HELD_LOG_MESSAGE,
  PAGE_PAUSED_LOG_MESSAGE,
  STATS_LOG_MESSAGE,
  TOPIC_PAUSED_LOG_MESSAGE,
} from '#lib/domain/stats.ts';
import type { RecurrentFunction } from './function.ts';

type FunctionName = 'webhook' | 'fanout' | 'sender';

/** Client errors in 5 minutes that look like more than a stray forged or bad request. */
const API_4XX_PER_5_MINUTES = 50;
/** Server errors in 5 minutes: Meta retries, but a few in a row mean deliveries are failing. */
const API_5XX_PER_5_MINUTES = 5;

export interface RecurringNotificationsMonitoringProps {
  /** Every function gets error and throttle alarms; the named ones also feed metric filters. */
  readonly functions: Readonly<Record<FunctionName, RecurrentFunction>> &
    Readonly<Record<string, RecurrentFunction>>;
  readonly api: apigw.HttpApi;
  readonly sendQueue: sqs.IQueue;
  readonly deadLetterQueues: {
    readonly send: sqs.IQueue;
    readonly schedule: sqs.IQueue;
    readonly fanoutFailure: sqs.IQueue;
  };
  readonly sendQueueAgeAlarm: Duration;
  /** Namespace of the metrics counted from logs. */
  readonly namespace: string;
  readonly alarmTopic?: sns.ITopic;
}

/** Alarms on everything that needs an operator, and a dashboard of the day's work. */
export class RecurringNotificationsMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  private readonly alarmTopic: sns.ITopic | undefined;

  constructor(scope: Construct, id: string, props: RecurringNotificationsMonitoringProps) {
    super(scope, id);
    this.alarmTopic = props.alarmTopic;
    this.addMetricFilters(props);
    this.addAlarms(props);
    this.dashboard = this.addDashboard(props);
  }

  /** A metric per counter of the `stats counted` lines, for the dashboard. */
  private addMetricFilters({ functions, namespace }: RecurringNotificationsMonitoringProps): void {
    for (const { field, metricName, from } of COUNTED_METRICS) {
      for (const name of from) {
        new logs.MetricFilter(this, `${metricName}From${capitalized(name)}`, {
          logGroup: functions[name].logGroup,
          metricNamespace: namespace,
          metricName,
          filterPattern: logs.FilterPattern.all(
            logs.FilterPattern.stringValue('$.message', '=', STATS_LOG_MESSAGE),
            logs.FilterPattern.numberValue(`$.${field}`, '>', 0),
          ),
          metricValue: `$.${field}`,
          unit: cloudwatch.Unit.COUNT,
        });
      }
    }
  }

  /** One alarm per thing an operator must act on, in the order the dashboard lists them. */
  private addAlarms(props: RecurringNotificationsMonitoringProps): void {
    const { functions, api, sendQueue, deadLetterQueues, namespace } = props;
    const fiveMinutes = Duration.minutes(5);
    // Page-level metrics feed alarms, not graphs, so their filters are made here.
    new logs.MetricFilter(this, 'PagesPausedFromSender', {
      logGroup: functions.sender.logGroup,
      metricNamespace: namespace,
      metricName: 'PagesPaused',
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', PAGE_PAUSED_LOG_MESSAGE),
      metricValue: '1',
      unit: cloudwatch.Unit.COUNT,
    });
    // Meta's policy enforcement webhooks pause a Page too: the same line, in the webhook's log.
    new logs.MetricFilter(this, 'PagesPausedFromWebhook', {
      logGroup: functions.webhook.logGroup,
      metricNamespace: namespace,
      metricName: 'PagesPaused',
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', PAGE_PAUSED_LOG_MESSAGE),
      metricValue: '1',
      unit: cloudwatch.Unit.COUNT,
    });
    new logs.MetricFilter(this, 'PagesHeldFromSender', {
      logGroup: functions.sender.logGroup,
      metricNamespace: namespace,
      metricName: 'PagesHeld',
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', PAGE_HELD_LOG_MESSAGE),
      metricValue: '1',
      unit: cloudwatch.Unit.COUNT,
    });
    // The stop-spike breaker runs where stops are seen: the sender's refusals, the webhook's stops.
    for (const [source, fn] of [
      ['Sender', functions.sender],
      ['Webhook', functions.webhook],
    ] as const) {
      new logs.MetricFilter(this, `TopicsPausedFrom${source}`, {
        logGroup: fn.logGroup,
        metricNamespace: namespace,
        metricName: 'TopicsPaused',
        filterPattern: logs.FilterPattern.stringValue('$.message', '=', TOPIC_PAUSED_LOG_MESSAGE),
        metricValue: '1',
        unit: cloudwatch.Unit.COUNT,
      });
    }
    // A content source is asked by the fan-out, and by the admin API's fan-out runs.
    for (const [source, fn] of [
      ['Fanout', functions.fanout],
      ['Admin', functions.admin],
    ] as const) {
      if (!fn) continue;
      new logs.MetricFilter(this, `ContentSourceFailuresFrom${source}`, {
        logGroup: fn.logGroup,
        metricNamespace: namespace,
        metricName: 'ContentSourceFailures',
        filterPattern: logs.FilterPattern.stringValue(
          '$.message',
          '=',
          CONTENT_SOURCE_FAILED_LOG_MESSAGE,
        ),
        metricValue: '1',
        unit: cloudwatch.Unit.COUNT,
      });
    }
    const counted = (metricName: string, period: Duration) =>
      new cloudwatch.Metric({ namespace, metricName, statistic: 'Sum', period });

    const queues: [string, sqs.IQueue, string][] = [
      ['SendDlq', deadLetterQueues.send, 'send jobs failed for good or ran out of receives'],
      ['ScheduleDlq', deadLetterQueues.schedule, 'Scheduler could not invoke the fan-out'],
      [
        'FanoutFailureQueue',
        deadLetterQueues.fanoutFailure,
        'a fan-out run or continuation failed after its retries',
      ],
    ];
    for (const [name, queue, meaning] of queues) {
      this.alarm(`${name}NotEmpty`, {
        metric: queue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: fiveMinutes,
        }),
        threshold: 1,
        alarmDescription: `${name} has messages: ${meaning}. Read them, fix the cause, redrive.`,
      });
    }
    this.alarm('SendQueueOldestJob', {
      metric: sendQueue.metricApproximateAgeOfOldestMessage({
        statistic: 'Maximum',
        period: fiveMinutes,
      }),
      threshold: props.sendQueueAgeAlarm.toSeconds(),
      alarmDescription:
        'Send jobs wait too long: the sender is failing, throttled by Meta, or too slow for the audience. Jobs past the staleness limit are dropped.',
    });
    for (const [name, fn] of Object.entries(functions)) {
      this.alarm(`${capitalized(name)}Errors`, {
        metric: fn.metricErrors({ statistic: 'Sum', period: fiveMinutes }),
        threshold: 1,
        alarmDescription: `The ${name} function failed; see its log group.`,
      });
      this.alarm(`${capitalized(name)}Throttles`, {
        metric: fn.metricThrottles({ statistic: 'Sum', period: fiveMinutes }),
        threshold: 1,
        alarmDescription: `The ${name} function was throttled (account or reserved concurrency).`,
      });
    }
    this.alarm('PagePaused', {
      metric: counted('PagesPaused', fiveMinutes),
      threshold: 1,
      alarmDescription: `A Page was paused after a Page-level Meta error or a Meta policy warning or block (sender or webhook log "${PAGE_PAUSED_LOG_MESSAGE}"): fix the cause, then resume it.`,
    });
    this.alarm('PageHeld', {
      metric: counted('PagesHeld', fiveMinutes),
      threshold: 1,
      alarmDescription: `Meta holds a Page's Marketing Message sends (sender log "${PAGE_HELD_LOG_MESSAGE}"): a campaign not ready or a budget spent; see heldReason in GET /admin/pages.`,
    });
    this.alarm('TopicPaused', {
      metric: counted('TopicsPaused', fiveMinutes),
      threshold: 1,
      alarmDescription: `A topic's stops and blocks over 24 h went above its threshold and it was paused (log "${TOPIC_PAUSED_LOG_MESSAGE}"): see paused in GET /admin/topics, then recurrent topics resume.`,
    });
    this.alarm('ContentSourceFailed', {
      metric: counted('ContentSourceFailures', fiveMinutes),
      threshold: 1,
      alarmDescription: `A topic's content source gave no usable answer for a date (fan-out log "${CONTENT_SOURCE_FAILED_LOG_MESSAGE}", with its reason): the date fell back to the topic's whenNoEdition. Fix the source, or put that date's edition by hand.`,
    });
    this.alarm('Api4xx', {
      metric: api.metricClientError({ statistic: 'Sum', period: fiveMinutes }),
      threshold: API_4XX_PER_5_MINUTES,
      alarmDescription:
        'Many 4xx answers: forged or unsigned webhook calls, a wrong app secret, or throttling (429).',
    });
    this.alarm('Api5xx', {
      metric: api.metricServerError({ statistic: 'Sum', period: fiveMinutes }),
      threshold: API_5XX_PER_5_MINUTES,
      alarmDescription: 'The API answers 5xx: Meta retries, but deliveries are not being stored.',
    });
  }

  /** Counts, queue depth, latencies and the alarms, over two weeks. */
  private addDashboard(props: RecurringNotificationsMonitoringProps): cloudwatch.Dashboard {
    const { functions, api, sendQueue, deadLetterQueues, namespace } = props;
    const fiveMinutes = Duration.minutes(5);
    const counted = (metricName: string, period: Duration) =>
      new cloudwatch.Metric({ namespace, metricName, statistic: 'Sum', period });
    const day = Duration.days(1);
    const minute = Duration.minutes(1);
    const sentPerMinute = counted('Sent', minute);
    return new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(14),
      widgets: [
        [
          graph('Opt-ins and stops per day', [
            counted('OptIns', day),
            counted('Stops', day),
            counted('Resumes', day),
          ]),
          graph('Sends, deferrals and failures per day', [
            counted('Sent', day),
            counted('Deferred', day),
            counted('Failed', day),
          ]),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: this.alarms,
            width: 8,
            height: 6,
          }),
        ],
        [
          graph('Send queue depth', [
            sendQueue.metricApproximateNumberOfMessagesVisible({
              period: minute,
              label: 'waiting',
            }),
            sendQueue.metricApproximateNumberOfMessagesNotVisible({
              period: minute,
              label: 'in flight or deferred',
            }),
            deadLetterQueues.send.metricApproximateNumberOfMessagesVisible({
              period: minute,
              label: 'send DLQ',
            }),
          ]),
          graph('Send rate (per second)', [
            new cloudwatch.MathExpression({
              expression: 'sent / PERIOD(sent)',
              usingMetrics: { sent: sentPerMinute },
              label: 'sends per second',
              period: minute,
            }),
          ]),
          graph('Oldest send job (seconds)', [
            sendQueue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum' }),
          ]),
        ],
        [
          graph('Webhook latency (ms)', [
            api.metricLatency({ statistic: 'p99', period: fiveMinutes, label: 'API p99' }),
            functions.webhook.metricDuration({
              statistic: 'p99',
              period: fiveMinutes,
              label: 'function p99',
            }),
          ]),
          graph('Sender and fan-out duration (ms)', [
            functions.sender.metricDuration({
              statistic: 'p50',
              period: fiveMinutes,
              label: 'sender p50',
            }),
            functions.sender.metricDuration({
              statistic: 'p99',
              period: fiveMinutes,
              label: 'sender p99',
            }),
            functions.fanout.metricDuration({
              statistic: 'Maximum',
              period: fiveMinutes,
              label: 'fan-out max',
            }),
          ]),
          graph(
            'Errors and throttles',
            Object.entries(functions).flatMap(([name, fn]) => [
              fn.metricErrors({ period: fiveMinutes, label: `${name} errors` }),
              fn.metricThrottles({ period: fiveMinutes, label: `${name} throttles` }),
            ]),
          ),
        ],
      ],
    });
  }

  private alarm(
    id: string,
    props: Pick<cloudwatch.AlarmProps, 'metric' | 'threshold' | 'alarmDescription'>,
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.alarmTopic) alarm.addAlarmAction(new SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
  }
}

function graph(title: string, metrics: cloudwatch.IMetric[]): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left: metrics, width: 8, height: 6 });
}

function capitalized(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}
