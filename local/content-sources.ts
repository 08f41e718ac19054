import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoContentSecrets } from '#lib/aws/dynamo-content-secrets.ts';
import type { ContentSourceParts } from '#lib/aws/fanout-deps.ts';
import { httpContentSourceClient } from '#lib/http/content-source-client.ts';

/**
 * Content sources on one machine: secrets in the local table (where a stack uses Secrets
 * Manager), and plain http allowed to a loopback host, so a source can run beside `npm start`.
 */
export function localContentSources(db: DynamoDBDocumentClient, table: string): ContentSourceParts {
  return {
    client: httpContentSourceClient(),
    secrets: dynamoContentSecrets(db, table),
    allowLoopbackHttp: true,
  };
}
