import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * SDK clients, configured the same everywhere. Endpoints come from the standard
 * `AWS_ENDPOINT_URL_<SERVICE>` variables, so the local emulators need no special code;
 * `config` adds client settings on top (the local runtime's emulator signer).
 */
export function createDynamoClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5, ...config }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** Sends to the configured endpoint rather than the queue URL's host (they agree on AWS). */
export function createSqsClient(config: SQSClientConfig = {}): SQSClient {
  return new SQSClient({ maxAttempts: 5, useQueueUrlAsEndpoint: false, ...config });
}
