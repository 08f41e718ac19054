import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createSqsClient } from '#lib/aws/clients.ts';

describe('test emulators', () => {
  it('reaches DynamoDB Local through AWS_ENDPOINT_URL_DYNAMODB', async () => {
    const client = new DynamoDBClient({});
    const answer = await client.send(new ListTablesCommand({}));
    expect(answer.TableNames).toBeInstanceOf(Array);
  });

  it('round-trips a message through fauxqs via AWS_ENDPOINT_URL_SQS', async () => {
    const client = createSqsClient();
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: `probe-${Date.now()}` }),
    );
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(received.Messages?.[0]?.Body).toBe('hello');
  });
});
