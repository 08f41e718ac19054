import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, startFauxqs } from '../local/emulators.ts';

/** Starts DynamoDB Local and fauxqs once per run; every test file makes its own table and queues. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamo, queues] = await Promise.all([startDynamoDbLocal(), startFauxqs()]);
  // Workers inherit the environment: the SDK clients find the emulators the standard way.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ENDPOINT_URL_SQS = queues.endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('sqsEndpoint', queues.endpoint);
  return async () => {
    await Promise.all([dynamo.stop(), queues.stop()]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
  }
}
