import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Requests per second and burst the HTTP API's default stage lets through. */
export interface ApiThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** The HTTP API with its default stage: throttled, access-logged as JSON. */
export function createApi(
  scope: Construct,
  throttle: ApiThrottle,
  logRetention: logs.RetentionDays,
): { api: apigw.HttpApi; stage: apigw.HttpStage } {
  const api = new apigw.HttpApi(scope, 'Api', {
    description: "Recurrent: Meta's webhook and the admin API",
    createDefaultStage: false,
  });
  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', {
    retention: logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stage = new apigw.HttpStage(scope, 'ApiStage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    throttle,
    accessLogSettings: {
      destination: new apigw.LogGroupLogDestination(accessLogs),
      format: apigwv1.AccessLogFormat.custom(
        JSON.stringify({
          requestId: '$context.requestId',
          requestTime: '$context.requestTime',
          routeKey: '$context.routeKey',
          status: '$context.status',
          responseLength: '$context.responseLength',
          responseLatency: '$context.responseLatency',
          integrationLatency: '$context.integrationLatency',
          integrationStatus: '$context.integrationStatus',
          integrationError: '$context.integrationErrorMessage',
          errorMessage: '$context.error.message',
          sourceIp: '$context.identity.sourceIp',
          userAgent: '$context.identity.userAgent',
          userArn: '$context.identity.userArn',
        }),
      ),
    },
  });
  return { api, stage };
}
