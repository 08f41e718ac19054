import type { TestProject } from 'vitest/node';
import { pointSdkAt, startDynamoDbLocal, startFauxqs } from '../local/emulators.ts';

/** Starts DynamoDB Local and fauxqs once per run; every test file makes its own table and queues. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamo, queues] = await Promise.all([startDynamoDbLocal(), startFauxqs()]);
  // Workers inherit the environment: the SDK clients find the emulators the standard way.
  pointSdkAt({ dynamo: dynamo.endpoint, sqs: queues.endpoint });
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
